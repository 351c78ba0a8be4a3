import {
  BadRequestException,
  HttpException,
  InternalServerErrorException,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import { AppException } from './app.exception';
import { ErrorCode } from './error-code';
import { mapError } from './error-response';

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
