import { HttpException, HttpStatus } from '@nestjs/common';
import type { FieldError } from './app.exception';
import { AppException } from './app.exception';
import { codeForStatus, ERROR_STATUS, ErrorCode } from './error-code';

/** DESIGN §3's error shape. */
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

/** Maps anything thrown to the error shape. Pure: no I/O, table-tested. */
export function mapError(exception: unknown): MappedError {
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

/** PostgreSQL class 22 (data exception), as TypeORM's QueryFailedError carries it. */
function isDataException(exception: unknown): boolean {
  if (typeof exception !== 'object' || exception === null) return false;
  const { code, driverError } = exception as { code?: unknown; driverError?: { code?: unknown } };
  const sqlState = typeof code === 'string' ? code : driverError?.code;
  return typeof sqlState === 'string' && /^22[0-9A-Z]{3}$/.test(sqlState);
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
