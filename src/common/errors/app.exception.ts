import type { ErrorCode } from './error-code';

export interface FieldError {
  field: string;
  message: string;
}

/**
 * The base of every module's typed exception. Services and processors throw these (never
 * HttpException); the global filter maps the code to a status (ERROR_STATUS).
 */
export class AppException extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldError[],
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
