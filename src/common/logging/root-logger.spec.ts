import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { DatabaseError } from 'pg';
import { pino, type Logger } from 'pino';
import { QueryFailedError } from 'typeorm';
import type { AppConfig } from '../../config/app-config';
import { rootLoggerOptions } from './root-logger';

const PHONE = '+14155550123';
const ARGON2_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$0Zp3vJ0xWZ4G3uZc6hTq8y9Yb1pN5mA7rLkQwEe2sXo';
const INSERT = 'INSERT INTO users (email, phone, password_hash) VALUES ($1, $2, $3)';

/** A unique violation as pg reports it, row values in `detail` and `where`. */
function queryFailedError(): QueryFailedError {
  const driverError = Object.assign(
    new DatabaseError(
      'duplicate key value violates unique constraint "users_email_key"',
      200,
      'error',
    ),
    {
      severity: 'ERROR',
      code: '23505',
      detail: `Key (phone, password_hash)=(${PHONE}, ${ARGON2_HASH}) already exists.`,
      where: `SQL statement "INSERT INTO users VALUES ('${PHONE}', '${ARGON2_HASH}')"`,
      schema: 'public',
      table: 'users',
      constraint: 'users_email_key',
    },
  );
  return new QueryFailedError(INSERT, ['bea@example.com', PHONE, ARGON2_HASH], driverError);
}

function capture(): { logger: Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  const config = { logLevel: 'info', role: 'api' } as AppConfig;
  const logger = pino(rootLoggerOptions(config, false), stream);
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function expectNoSecrets(text: string): void {
  expect(text).not.toContain('4155550123');
  expect(text).not.toContain('argon2');
  expect(text).not.toContain('c2FsdHNhbHRzYWx0');
  expect(text).not.toContain('bea@example.com');
  expect(text).not.toMatch(/"(parameters|driverError|detail|where)"/);
}

describe('the root logger', () => {
  it('should log a QueryFailedError with its SQLSTATE, message and query text but no parameters or row values', () => {
    const { logger, lines, text } = capture();
    logger.error({ err: queryFailedError() }, 'Unhandled error');
    expectNoSecrets(text());
    expect(lines()[0].err).toMatchObject({
      type: 'QueryFailedError',
      message: 'duplicate key value violates unique constraint "users_email_key"',
      code: '23505',
      constraint: 'users_email_key',
      table: 'users',
      query: INSERT,
    });
  });

  it('should drop them from an error passed alone, from children and from nested copies', () => {
    const { logger, lines, text } = capture();
    const inner = queryFailedError();
    logger.error(inner);
    logger.child({ context: 'Test' }).warn({ err: inner }, 'child');
    logger.error({ err: new Error('send failed', { cause: inner }) }, 'with a cause');
    logger.error(
      { err: Object.assign(new Error('wrapped'), { inner, context: { parameters: [PHONE] } }) },
      'wrapped',
    );
    logger.error({ error: inner }, 'under error');
    logger.error({ err: new AggregateError([inner], 'many') }, 'aggregate');
    expect(lines()).toHaveLength(6);
    expectNoSecrets(text());
    expect(lines()[2].err).toMatchObject({
      message: 'send failed: duplicate key value violates unique constraint "users_email_key"',
    });
    expect(lines()[3].err).toMatchObject({ inner: { code: '23505', query: INSERT } });
  });

  it("should keep them out of Fastify's request loggers", async () => {
    const { logger, text } = capture();
    const app = Fastify({ loggerInstance: logger });
    app.get('/boom', (request) => {
      request.log.error({ err: queryFailedError() }, 'failed');
      return {};
    });
    await app.inject({ method: 'GET', url: '/boom' });
    await app.close();
    expect(text()).toContain('"code":"23505"');
    expectNoSecrets(text());
  });

  it('should mask phone numbers in error messages', () => {
    const { logger, lines } = capture();
    logger.error({ err: new Error(`The 'To' number ${PHONE} is not a valid phone number.`) }, 'x');
    const err = lines()[0].err as { message: string; stack: string };
    expect(err.message).toBe("The 'To' number +14*******23 is not a valid phone number.");
    expect(err.stack).not.toContain('4155550123');
  });
});
