import { HttpException, HttpStatus } from '@nestjs/common';
import type { FieldError } from './app.exception';
import { AppException } from './app.exception';
import { codeForStatus, ERROR_STATUS, ErrorCode } from './error-code';
import { ReadQueryException } from './read-query.exception';
import {
  isDatabaseGone,
  isDatabaseUnavailable,
  isDataException,
} from '../../database/postgres-errors';

/** The HTTP contract's error shape (docs/api.md §2). */
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
  if (isDatabaseGone(exception)) {
    // PostgreSQL restarted or unreachable: an outage every route answers alike. A write caught
    // in it may or may not have committed: a send retried with its Idempotency-Key gets its
    // first answer if it did.
    return build(
      503,
      ErrorCode.ServiceUnavailable,
      'The database connection was lost; the request may not have completed. Retry later (a send with the same Idempotency-Key).',
      undefined,
      { 'retry-after': String(READ_RETRY_AFTER_SECONDS) },
    );
  }
  if (exception instanceof HttpException) {
    const statusCode = exception.getStatus();
    if (statusCode >= 500) return internal();
    return build(statusCode, codeForStatus(statusCode), httpExceptionMessage(exception));
  }
  return internal();
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
