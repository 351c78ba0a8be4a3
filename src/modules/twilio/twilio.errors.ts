import { maskPhoneNumbersInText } from '../../common/logging/mask';

/**
 * Twilio answered with an error (HTTP 4xx/5xx and Twilio's JSON body). `code` is Twilio's
 * numeric error code (21211, 20429, 63016 …) when the body had one. The message has phone
 * numbers masked ("The 'To' number +15*******67 is not …"): it is logged and stored as the
 * message's error_message, and must not keep the recipient's number.
 */
export class TwilioApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | undefined,
    message: string,
    /** Seconds, from the Retry-After header (429s). */
    readonly retryAfterSeconds: number | undefined,
    readonly moreInfo: string | undefined,
  ) {
    super(maskPhoneNumbersInText(message));
    this.name = 'TwilioApiError';
  }
}

/**
 * `connect`: no connection was made, so Twilio cannot have acted (safe to resend).
 * `timeout` / `reset`: the request may have reached Twilio and created the message; the
 * double-send guard must look it up before sending again.
 */
export type TwilioNetworkErrorKind = 'connect' | 'timeout' | 'reset';

/** No usable answer from Twilio at all. */
export class TwilioNetworkError extends Error {
  constructor(
    readonly kind: TwilioNetworkErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'TwilioNetworkError';
  }

  /** True when Twilio may have processed the request (look it up before resending). */
  get maybeProcessed(): boolean {
    return this.kind !== 'connect';
  }
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT']);

/** Classifies a transport failure (axios/Node error codes). Pure, table-tested. */
export function classifyNetworkError(error: unknown): TwilioNetworkError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && CONNECT_CODES.has(code)) {
    return new TwilioNetworkError('connect', message);
  }
  if ((typeof code === 'string' && TIMEOUT_CODES.has(code)) || /timeout/i.test(message)) {
    return new TwilioNetworkError('timeout', message);
  }
  return new TwilioNetworkError('reset', message);
}

/** Builds the typed error from an error response. Pure, table-tested. */
export function toTwilioApiError(
  status: number,
  body: unknown,
  headers: Readonly<Record<string, unknown>>,
): TwilioApiError {
  const parsed = parseBody(body);
  const code = typeof parsed.code === 'number' ? parsed.code : Number(parsed.code) || undefined;
  const message =
    typeof parsed.message === 'string' && parsed.message !== ''
      ? parsed.message
      : `Twilio answered HTTP ${status}`;
  const moreInfo = typeof parsed.more_info === 'string' ? parsed.more_info : undefined;
  return new TwilioApiError(
    status,
    code,
    message,
    parseRetryAfter(headers['retry-after']),
    moreInfo,
  );
}

function parseBody(body: unknown): Record<string, unknown> {
  if (typeof body === 'object' && body !== null) return body as Record<string, unknown>;
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
    } catch {
      // not JSON: no code, generic message
    }
  }
  return {};
}

/** Retry-After as delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  const raw: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (typeof raw === 'number') return raw >= 0 ? raw : undefined;
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(raw.trim())) return Number(raw.trim());
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}
