import { AppException } from './app.exception';
import { ErrorCode } from './error-code';
import { ReadQueryException } from './read-query.exception';

describe('ReadQueryException.wrap', () => {
  it('should give the read its result', async () => {
    await expect(ReadQueryException.wrap(() => Promise.resolve(42))).resolves.toBe(42);
  });

  it('should mark what the database throws, keeping it as the cause', async () => {
    const timeout = Object.assign(new Error('canceling statement due to statement timeout'), {
      code: '57014',
    });
    const thrown = await ReadQueryException.wrap(() => Promise.reject(timeout)).catch(
      (error: unknown) => error,
    );
    expect(thrown).toBeInstanceOf(ReadQueryException);
    expect((thrown as ReadQueryException).cause).toBe(timeout);
  });

  it('should let our own answers (404, 400…) through unchanged', async () => {
    const notFound = new AppException(ErrorCode.NotFound, 'No message.');
    await expect(ReadQueryException.wrap(() => Promise.reject(notFound))).rejects.toBe(notFound);
  });
});
