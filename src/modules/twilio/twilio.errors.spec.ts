import { classifyNetworkError, parseRetryAfter, toTwilioApiError } from './twilio.errors';

describe('toTwilioApiError', () => {
  it('should carry Twilio code, status, message, more_info and Retry-After', () => {
    const error = toTwilioApiError(
      429,
      {
        code: 20429,
        message: 'Too Many Requests',
        more_info: 'https://www.twilio.com/docs/errors/20429',
        status: 429,
      },
      { 'retry-after': '3' },
    );
    expect(error).toMatchObject({
      status: 429,
      code: 20429,
      message: 'Too Many Requests',
      moreInfo: 'https://www.twilio.com/docs/errors/20429',
      retryAfterSeconds: 3,
    });
  });

  it('should parse a JSON string body', () => {
    expect(toTwilioApiError(400, '{"code":21211,"message":"bad To"}', {})).toMatchObject({
      code: 21211,
      message: 'bad To',
    });
  });

  it.each([
    [
      "The 'To' number 5551234567 is not a valid phone number.",
      "The 'To' number 55******67 is not a valid phone number.",
    ],
    [
      'Twilio could not find a Channel with the specified From address: whatsapp:+14155550100',
      'Twilio could not find a Channel with the specified From address: whatsapp:+14*******00',
    ],
    ['Too Many Requests', 'Too Many Requests'],
  ])('should mask phone numbers in the message %p', (message, masked) => {
    const error = toTwilioApiError(400, { code: 21211, message }, {});
    expect(error.message).toBe(masked);
    expect(String(error.stack)).not.toMatch(/5551234567|4155550100/);
  });

  it.each([undefined, null, '', '<html>gateway</html>', 42])(
    'should survive a body of %p',
    (body) => {
      const error = toTwilioApiError(502, body, {});
      expect(error).toMatchObject({
        status: 502,
        code: undefined,
        message: 'Twilio answered HTTP 502',
      });
    },
  );
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-27T00:00:00Z');
  it.each([
    ['5', 5],
    [' 1.5 ', 1.5],
    [['2', '9'], 2],
    [7, 7],
    ['Fri, 27 Nov 2026 00:00:10 GMT', 10],
    ['Thu, 26 Nov 2026 23:00:00 GMT', 0],
    ['soon', undefined],
    ['', undefined],
    [undefined, undefined],
    [-1, undefined],
  ])('should read %p as %p seconds', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('classifyNetworkError', () => {
  it.each([
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }, 'connect', false],
    [{ code: 'ENOTFOUND', message: 'getaddrinfo ENOTFOUND' }, 'connect', false],
    [{ code: 'ECONNABORTED', message: 'timeout of 300ms exceeded' }, 'timeout', true],
    [{ code: 'ETIMEDOUT', message: 'socket hang' }, 'timeout', true],
    [{ message: 'timeout exceeded' }, 'timeout', true],
    [{ code: 'ECONNRESET', message: 'socket hang up' }, 'reset', true],
    [{ code: 'EPIPE', message: 'broken pipe' }, 'reset', true],
  ])('should classify %p as %s', (raw, kind, maybeProcessed) => {
    const error = classifyNetworkError(Object.assign(new Error(raw.message), raw));
    expect(error.kind).toBe(kind);
    expect(error.maybeProcessed).toBe(maybeProcessed);
  });
});
