import {
  BadRequestException,
  HttpException,
  InternalServerErrorException,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { AppException } from './app.exception';
import { ErrorCode } from './error-code';
import { mapError } from './error-response';
import { ReadQueryException } from './read-query.exception';

describe('mapError', () => {
  it.each([
    [
      new AppException(ErrorCode.WindowClosed, 'Send a template.'),
      422,
      'Unprocessable Entity',
      'WINDOW_CLOSED',
    ],
    [
      new AppException(ErrorCode.RecipientOptedOut, 'Opted out.'),
      422,
      'Unprocessable Entity',
      'RECIPIENT_OPTED_OUT',
    ],
    [
      new AppException(ErrorCode.IdempotencyKeyInFlight, 'Wait.'),
      409,
      'Conflict',
      'IDEMPOTENCY_KEY_IN_FLIGHT',
    ],
    [new AppException(ErrorCode.BadSignature, 'Bad.'), 403, 'Forbidden', 'BAD_SIGNATURE'],
    [
      new AppException(ErrorCode.RateLimited, 'Slow down.'),
      429,
      'Too Many Requests',
      'RATE_LIMITED',
    ],
    [new NotFoundException('Cannot GET /x'), 404, 'Not Found', 'NOT_FOUND'],
    [new PayloadTooLargeException(), 413, 'Payload Too Large', 'PAYLOAD_TOO_LARGE'],
    [new BadRequestException('Body is not valid JSON'), 400, 'Bad Request', 'BAD_REQUEST'],
    [
      new HttpException('Unsupported Media Type: x', 415),
      415,
      'Unsupported Media Type',
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [new HttpException('teapot', 418), 418, 'I Am A Teapot', 'BAD_REQUEST'],
  ])('should map %p to %i %s %s', (exception, statusCode, error, code) => {
    const mapped = mapError(exception);
    expect(mapped.body).toMatchObject({ statusCode, error, code });
    expect(typeof mapped.body.message).toBe('string');
    expect(mapped.internal).toBe(false);
  });

  it.each([
    new Error('database password is hunter2'),
    new InternalServerErrorException('internal detail'),
    'a thrown string',
    undefined,
  ])('should hide %p behind 500 INTERNAL', (exception) => {
    const mapped = mapError(exception);
    expect(mapped.internal).toBe(true);
    expect(mapped.body).toMatchObject({
      statusCode: 500,
      code: 'INTERNAL',
      error: 'Internal Server Error',
    });
    expect(mapped.body.message).not.toMatch(/hunter2|internal detail|thrown/);
  });

  it('should keep validation details and extra headers', () => {
    const mapped = mapError(
      new AppException(ErrorCode.ValidationFailed, 'Bad.', [{ field: 'to', message: 'invalid' }], {
        'retry-after': '3',
      }),
    );
    expect(mapped.body.details).toEqual([{ field: 'to', message: 'invalid' }]);
    expect(mapped.headers).toEqual({ 'retry-after': '3' });
  });

  it('should make one sentence of an array message', () => {
    const mapped = mapError(new BadRequestException(['a is wrong', 'b is wrong']));
    expect(mapped.body.message).toBe('a is wrong; b is wrong.');
  });

  it.each(['22021', '22P02', '22003', '22008'])(
    'should answer a database data exception (%s) with 400, never 500',
    (code) => {
      const error = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
        driverError: { code },
      });
      const mapped = mapError(error);
      expect(mapped.internal).toBe(false);
      expect(mapped.body).toMatchObject({ statusCode: 400, code: 'BAD_REQUEST' });
      expect(mapped.body.message).not.toMatch(/UTF8|0x00/);
    },
  );

  it('should still hide other database errors behind 500', () => {
    const error = Object.assign(new Error('deadlock'), { driverError: { code: '40P01' } });
    expect(mapError(error).internal).toBe(true);
  });
});

describe('mapError on the API read path', () => {
  const pgError = (message: string, code?: string) =>
    Object.assign(new Error(message), code === undefined ? {} : { code });
  const typeOrmError = (driverError: Error) => new QueryFailedError('SELECT …', [], driverError);
  const timeout = pgError('canceling statement due to statement timeout', '57014');

  it.each([
    ['a statement timeout (57014) from TypeORM', typeOrmError(timeout)],
    ['a statement timeout (57014) from pg', timeout],
    ['a full pool (pg-pool)', pgError('timeout exceeded when trying to connect')],
    [
      'a slow new connection (pg-pool)',
      new Error('Connection terminated due to connection timeout', {
        cause: pgError('Connection terminated unexpectedly'),
      }),
    ],
    ['a silent server (query_timeout)', typeOrmError(pgError('Query read timeout'))],
    ['too many connections (53300)', typeOrmError(pgError('sorry, too many clients', '53300'))],
    ['a starting server (57P03)', pgError('the database system is starting up', '57P03')],
    ['a refused connection', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
  ])('should answer %s with 503 SERVICE_UNAVAILABLE and Retry-After', (_label, cause) => {
    const mapped = mapError(new ReadQueryException(cause));
    expect(mapped.internal).toBe(false);
    expect(mapped.body).toMatchObject({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'SERVICE_UNAVAILABLE',
    });
    expect(mapped.headers).toEqual({ 'retry-after': '5' });
    expect(mapped.body.message).not.toMatch(/timeout|canceling|ECONNREFUSED|5432/);
  });

  it.each([
    ['a statement timeout', typeOrmError(timeout)],
    ['a full pool', pgError('timeout exceeded when trying to connect')],
  ])('should keep %s outside the read path a 500 (there it is a fault)', (_label, error) => {
    expect(mapError(error)).toMatchObject({ internal: true, body: { statusCode: 500 } });
  });

  it.each([
    [
      'a connection lost under a write',
      typeOrmError(pgError('Connection terminated unexpectedly')),
    ],
    ['a server shut down (57P01)', typeOrmError(pgError('terminating connection', '57P01'))],
    ['a refused connection', pgError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
  ])('should answer %s on any route with 503 and Retry-After, never 500', (_label, error) => {
    const mapped = mapError(error);
    expect(mapped.internal).toBe(false);
    expect(mapped.body).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(mapped.headers).toEqual({ 'retry-after': '5' });
    expect(mapped.body.message).not.toMatch(/terminat|ECONNREFUSED|5432/);
  });

  it.each([
    ['a syntax error (42601)', typeOrmError(pgError('syntax error at or near "x"', '42601'))],
    ['a thrown bug', new TypeError("Cannot read properties of undefined (reading 'total')")],
  ])('should hide %s on the read path behind 500 INTERNAL', (_label, cause) => {
    const mapped = mapError(new ReadQueryException(cause));
    expect(mapped.internal).toBe(true);
    expect(mapped.body).toMatchObject({ statusCode: 500, code: 'INTERNAL' });
  });

  it('should answer a data exception on the read path with 400, as anywhere', () => {
    const cause = typeOrmError(pgError('invalid input syntax for type uuid', '22P02'));
    expect(mapError(new ReadQueryException(cause)).body).toMatchObject({
      statusCode: 400,
      code: 'BAD_REQUEST',
    });
  });
});
