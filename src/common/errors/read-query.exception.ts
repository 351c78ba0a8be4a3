import { AppException } from './app.exception';

/**
 * A failure of an API read, wrapping what the database threw. The marker lets mapError answer a
 * read cut by its bounds (statement timeout, full pool) with 503, while the same errors elsewhere
 * stay 500s: there they mean a lock, a leak or a bug.
 */
export class ReadQueryException extends Error {
  constructor(cause: unknown) {
    super('An API read failed', { cause });
    this.name = new.target.name;
  }

  /** Runs an API read, marking whatever it throws (our own AppExceptions pass unchanged). */
  static async wrap<T>(read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      throw error instanceof AppException ? error : new ReadQueryException(error);
    }
  }
}
