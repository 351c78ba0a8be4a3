// Type-only: erased at compile time, so this file never loads the SDK.
import type { Breadcrumb, ErrorEvent } from '@sentry/nestjs';
import type { AppConfig } from '../../config/app-config';
import { maskPhoneNumbersInText } from '../logging/mask';

export const REDACTED = '[redacted]';

/** A key whose value is a credential wherever it appears (headers, extras, contexts, data). */
const SECRET_KEY =
  /authorization|cookie|password|passwd|secret|token|signature|api[-_]?key|credential|idempotency/i;
/** Sentry's own identifiers: hex runs that must reach Sentry as they are. */
const ID_KEYS: ReadonlySet<string> = new Set(['event_id', 'trace_id', 'span_id', 'parent_span_id']);
/** The parts of an event that can carry text from the app, its requests or its errors. */
const EVENT_PARTS = [
  'message',
  'logentry',
  'exception',
  'breadcrumbs',
  'extra',
  'tags',
  'contexts',
  'request',
  'transaction',
  'fingerprint',
] as const;
const BEARER = /\b(Bearer|Basic)\s+[^\s"',;]+/gi;
const JWT = /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]+/g;
const URL_PASSWORD = /(\/\/[^/\s:@]*):[^/\s@]+@/g;
const URL_QUERY = /(\bhttps?:\/\/[^\s?#"']+)\?[^\s#"']*/g;
// A number in a URL path (`/contacts/whatsapp%3A%2B1415…`) is masked like one written out.
const ENCODED_PLUS = /%2B(?=\d)/gi;
const ENCODED_COLON = /%3A(?=\+|%2B)/gi;
const MIN_SECRET_LENGTH = 8;
const MAX_DEPTH = 12;

/** The configured secrets, removed verbatim from any text in an event (a net under the rest). */
export function secretsOf(config: AppConfig): string[] {
  const candidates = [
    config.twilio.authToken,
    config.twilio.authTokenPrevious,
    config.jwt.secret,
    config.admin.password,
    config.metricsAuth?.password,
    urlPassword(config.database.url),
    urlPassword(config.redis.url),
  ];
  return [...new Set(candidates)]
    .filter((value): value is string => value !== undefined && value.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
}

/**
 * beforeSend: an event as Sentry may keep it. The request shrinks to its method and path (no
 * headers, cookies, body or query string), the user and stack-frame variables go, credential
 * keys are redacted at any depth, and every text loses bearer tokens, JWTs, URL passwords and
 * query strings, the configured secrets and phone numbers (masked as in the logs).
 */
export function scrubEvent(event: ErrorEvent, secrets: readonly string[]): ErrorEvent {
  if (event.request) {
    event.request = { method: event.request.method, url: withoutQuery(event.request.url) };
  }
  delete event.user;
  for (const exception of event.exception?.values ?? []) {
    for (const frame of exception.stacktrace?.frames ?? []) delete frame.vars;
  }
  const parts = event as unknown as Record<string, unknown>;
  for (const part of EVENT_PARTS) {
    if (parts[part] !== undefined) parts[part] = scrubValue(parts[part], secrets, 0);
  }
  return event;
}

/** beforeBreadcrumb: outgoing-request crumbs lose their query and fragment, then as above. */
export function scrubBreadcrumb(breadcrumb: Breadcrumb, secrets: readonly string[]): Breadcrumb {
  const data = breadcrumb.data;
  if (data) {
    delete data['http.query'];
    delete data['http.fragment'];
    if (typeof data.url === 'string') data.url = withoutQuery(data.url);
  }
  return scrubValue(breadcrumb, secrets, 0) as Breadcrumb;
}

/** A text without credentials, configured secrets or phone numbers. */
export function scrubText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  out = out
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(URL_PASSWORD, `$1:${REDACTED}@`)
    .replace(URL_QUERY, `$1?${REDACTED}`)
    .replace(ENCODED_COLON, ':')
    .replace(ENCODED_PLUS, '+');
  return maskPhoneNumbersInText(out);
}

function scrubValue(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === 'string') return scrubText(value, secrets);
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) return '[Object]';
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (SECRET_KEY.test(key)) out[key] = REDACTED;
    else if (ID_KEYS.has(key)) out[key] = inner;
    else out[key] = scrubValue(inner, secrets, depth + 1);
  }
  return out;
}

function withoutQuery(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}

function urlPassword(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const password = new URL(url).password;
    return password === '' ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}
