import { maskPhoneNumbersInText } from './mask';

/**
 * Keys never written for an error, at any depth. TypeORM's QueryFailedError carries the bound
 * `parameters` (phone numbers, bodies, payloads, password hashes) and the driver's error, whose
 * own fields it also copies onto itself; Postgres puts row values in `detail` ("Key (phone)=(…)")
 * and `where`, and the text of an internal query in `internalQuery`. What stays tells an
 * incident apart: the type, the message, the SQLSTATE `code`, constraint, table and column
 * names, and the query text (placeholders only, never the values).
 */
export const DROPPED_ERROR_KEYS: ReadonlySet<string> = new Set([
  'parameters',
  'driverError',
  'detail',
  'where',
  'internalQuery',
]);

const MAX_DEPTH = 4;
const MAX_QUERY_CHARS = 500;

type ErrorLike = Error & Record<string, unknown>;

/**
 * The root logger's `err` serializer (Nest's Logger, Fastify's request loggers and every child
 * use it): pino's standard shape without anything in DROPPED_ERROR_KEYS, with phone-number-like
 * runs masked in messages and stacks.
 */
export function serializeError(value: unknown): unknown {
  return isErrorLike(value) ? serializeErrorLike(value, new Set(), 0) : scrub(value, new Set(), 0);
}

function serializeErrorLike(error: ErrorLike, seen: Set<object>, depth: number): unknown {
  seen.add(error);
  const out: Record<string, unknown> = {
    type: typeof error.constructor === 'function' ? error.constructor.name : error.name,
    message: maskPhoneNumbersInText(withCauses(error, (e) => e.message, ': ')),
    stack: maskPhoneNumbersInText(withCauses(error, (e) => e.stack ?? '', '\ncaused by: ')),
  };
  if (Array.isArray(error.errors)) {
    out.aggregateErrors = (error.errors as unknown[]).map((inner) => scrub(inner, seen, depth + 1));
  }
  for (const key in error) {
    // `cause` is folded into the message, as pino's own serializer does.
    if (key === 'cause' || key in out || DROPPED_ERROR_KEYS.has(key)) continue;
    out[key] = scrub(error[key], seen, depth + 1);
  }
  if (typeof error.query === 'string') out.query = truncate(error.query);
  return out;
}

/** A copy of any value with dropped keys removed at every level (cycles and depth bounded). */
function scrub(value: unknown, seen: Set<object>, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth > MAX_DEPTH) return '[Object]';
  if (isErrorLike(value)) return serializeErrorLike(value, seen, depth);
  seen.add(value);
  if (Array.isArray(value)) return value.map((item: unknown) => scrub(item, seen, depth + 1));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (!DROPPED_ERROR_KEYS.has(key)) out[key] = scrub(inner, seen, depth + 1);
  }
  return out;
}

/** The error's message (or stack) followed by its causes', as pino's own serializer does. */
function withCauses(error: Error, pick: (error: Error) => string, separator: string): string {
  const parts: string[] = [];
  const visited = new Set<unknown>();
  let current: unknown = error;
  while (isErrorLike(current) && !visited.has(current)) {
    visited.add(current);
    parts.push(pick(current));
    current = current.cause;
  }
  return parts.filter((part) => part !== '').join(separator);
}

function isErrorLike(value: unknown): value is ErrorLike {
  return (
    value instanceof Error ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as { message?: unknown }).message === 'string' &&
      typeof (value as { stack?: unknown }).stack === 'string')
  );
}

function truncate(text: string): string {
  return text.length > MAX_QUERY_CHARS ? `${text.slice(0, MAX_QUERY_CHARS)}…` : text;
}
