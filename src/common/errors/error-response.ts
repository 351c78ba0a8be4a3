import { HttpException, HttpStatus } from '@nestjs/common';
import type { FieldError } from './app.exception';
import { AppException } from './app.exception';
import { codeForStatus, ERROR_STATUS, ErrorCode } from './error-code';
import { ReadQueryException } from './read-query.exception';

/** The HTTP contract's error shape (docs/architecture.md §6). */
export interface ErrorBody {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  details?: FieldError[];
  requestId: string;
  errorId?: string;
}

export interface MappedError {
  body: Omit<ErrorBody, 'requestId' | 'errorId'>;
  headers: Readonly<Record<string, string>>;
  /** True for a real server fault: logged with an errorId, details hidden. */
  internal: boolean;
}

const INTERNAL_MESSAGE = 'An unexpected error occurred; quote the errorId when reporting it.';

/** Retry-After of a read shed by its bounds: the read statement timeout frees a slot by then. */
export const READ_RETRY_AFTER_SECONDS = 5;

// SQLSTATEs too_many_connections and cannot_connect_now, and Node's code for a server that
// refuses connections: no connection could be had.
const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['53300', '57P03', 'ECONNREFUSED']);
// ...and query_canceled (what statement_timeout raises).
const UNAVAILABLE_CODES: ReadonlySet<string> = new Set([...UNREACHABLE_CODES, '57014']);
// pg and pg-pool raise these as plain Errors, with no SQLSTATE. The first two (and the codes)
// prove the statement did not run or was rolled back: no connection was made, or the server
// cancelled it.
const NOT_WRITTEN_MESSAGES: ReadonlySet<string> = new Set([
  // pg-pool: no connection became free within connectionTimeoutMillis.
  'timeout exceeded when trying to connect',
  // pg-pool: opening a new connection took longer than that.
  'Connection terminated due to connection timeout',
]);
const UNAVAILABLE_MESSAGES: ReadonlySet<string> = new Set([
  ...NOT_WRITTEN_MESSAGES,
  // pg: query_timeout, the server stopped answering (the statement may still commit).
  'Query read timeout',
]);

/** Maps anything thrown to the error shape. Pure: no I/O, table-tested. */
export function mapError(exception: unknown): MappedError {
  if (exception instanceof ReadQueryException) {
    // An API read cut by its own bounds, or a database that cannot take it now: shed, not a
    // fault. Only the read path maps these: on a write they mean a lock, a leak or a bug (500).
    if (isDatabaseUnavailable(exception.cause)) {
      return build(
        503,
        ErrorCode.ServiceUnavailable,
        'The database cannot serve this read now; retry later or narrow the query.',
        undefined,
        { 'retry-after': String(READ_RETRY_AFTER_SECONDS) },
      );
    }
    return mapError(exception.cause);
  }
  if (exception instanceof AppException) {
    const statusCode = ERROR_STATUS[exception.code];
    return build(
      statusCode,
      exception.code,
      exception.message,
      exception.details,
      exception.headers,
    );
  }
  if (isDataException(exception)) {
    // A value the database cannot store (a NUL byte, an out-of-range number…): the client's
    // input, not our fault, and never a 500.
    return build(400, ErrorCode.BadRequest, 'The request contains a value that cannot be stored.');
  }
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    if (statusCode >= 500) return internal();
    return build(statusCode, codeForStatus(statusCode), httpExceptionMessage(exception));
  }
  return internal();
}

/** PostgreSQL's SQLSTATE of an error, as pg or TypeORM's QueryFailedError carries it. */
export function sqlStateOf(exception: unknown): string | undefined {
  if (typeof exception !== 'object' || exception === null) return undefined;
  const { code, driverError } = exception as { code?: unknown; driverError?: { code?: unknown } };
  const sqlState = typeof code === 'string' ? code : driverError?.code;
  return typeof sqlState === 'string' ? sqlState : undefined;
}

/**
 * A value PostgreSQL cannot store: class 22 (data exception: a NUL byte, an overflow) and 54000
 * (a value too big for an index row). What the client sent cannot be stored, whatever we retry.
 */
export function isDataException(exception: unknown): boolean {
  const sqlState = sqlStateOf(exception);
  return sqlState !== undefined && (/^22[0-9A-Z]{3}$/.test(sqlState) || sqlState === '54000');
}

/**
 * The database was unavailable AND nothing was written: the write can be answered "not stored,
 * retry" without risking a second copy. A client-side read timeout is excluded (its statement
 * may still commit); so is everything else.
 */
export function isNotWritten(error: unknown): boolean {
  return databaseFailure(error, UNAVAILABLE_CODES, NOT_WRITTEN_MESSAGES);
}

/**
 * No connection could be had at all (refused, too many, pool wait over): retrying the items of a
 * failed batch one at a time would only fail each of them again, slowly.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  return databaseFailure(error, UNREACHABLE_CODES, NOT_WRITTEN_MESSAGES);
}

/** A statement timeout, a full pool or an unreachable server, however TypeORM or pg wrap it. */
function isDatabaseUnavailable(error: unknown): boolean {
  return databaseFailure(error, UNAVAILABLE_CODES, UNAVAILABLE_MESSAGES);
}

/** Whether the error or one of its causes (TypeORM's driverError, pg's cause) is one of these. */
function databaseFailure(
  error: unknown,
  codes: ReadonlySet<string>,
  messages: ReadonlySet<string>,
): boolean {
  let current = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const { code, message, driverError, cause } = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof code === 'string' && codes.has(code)) return true;
    if (typeof message === 'string' && messages.has(message)) return true;
    current = driverError ?? cause;
  }
  return false;
}

function internal(): MappedError {
  return { ...build(500, ErrorCode.Internal, INTERNAL_MESSAGE), internal: true };
}

function build(
  statusCode: number,
  code: ErrorCode,
  message: string,
  details?: FieldError[],
  headers: Readonly<Record<string, string>> = {},
): MappedError {
  const error = (HttpStatus[statusCode] ?? 'Error')
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
  const body = { statusCode, error, code, message, ...(details ? { details } : {}) };
  return { body, headers, internal: false };
}

function httpExceptionMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return sentence(response);
  if (typeof response === 'object' && response !== null && 'message' in response) {
    const { message } = response;
    if (typeof message === 'string') return sentence(message);
    if (Array.isArray(message)) return sentence(message.map(String).join('; '));
  }
  return sentence(exception.message);
}

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
