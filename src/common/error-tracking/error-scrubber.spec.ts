import { loadConfig } from '../../config/load-config';
import { REDACTED, scrubBreadcrumb, scrubEvent, scrubText, secretsOf } from './error-scrubber';

const PHONE = '+14155550123';
const TWILIO_TOKEN = 'twilio-auth-token-0123456789';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3OCJ9.c2lnbmF0dXJlLXZhbHVl';
const SECRETS = [TWILIO_TOKEN, 'db-password-42'];

function expectClean(value: unknown): void {
  const text = JSON.stringify(value);
  for (const leak of [
    '4155550123',
    TWILIO_TOKEN,
    'db-password-42',
    JWT,
    'c2lnbmF0dXJl',
    'hunter2',
  ]) {
    expect(text).not.toContain(leak);
  }
}

describe('scrubText', () => {
  it.each([
    [`Bearer ${JWT}`, `Bearer ${REDACTED}`],
    [`token ${JWT} expired`, `token ${REDACTED} expired`],
    ['Basic dXNlcjpodW50ZXIy', `Basic ${REDACTED}`],
    [`auth failed with ${TWILIO_TOKEN}`, `auth failed with ${REDACTED}`],
    [
      'connect postgres://app:db-password-42@db:5432/x',
      `connect postgres://app:${REDACTED}@db:5432/x`,
    ],
    ['redis://:pw-in-url@cache:6379 down', `redis://:${REDACTED}@cache:6379 down`],
    [
      'GET https://api.example.com/x?To=whatsapp:+1415&a=b',
      `GET https://api.example.com/x?${REDACTED}`,
    ],
    [`The 'To' number ${PHONE} is not valid`, "The 'To' number +14*******23 is not valid"],
    ['/api/v1/contacts/whatsapp%3A%2B14155550123', '/api/v1/contacts/whatsapp:+14*******23'],
    ['/api/v1/contacts/%2B14155550123', '/api/v1/contacts/+14*******23'],
    ['invalid input syntax for type uuid: "abc"', 'invalid input syntax for type uuid: "abc"'],
  ])('should turn %p into %p', (input, output) => {
    expect(scrubText(input, SECRETS)).toBe(output);
  });
});

describe('scrubEvent', () => {
  it('should keep only the method and path of the request, and drop the user and frame variables', () => {
    const event = scrubEvent(
      {
        type: undefined,
        event_id: '0123456789abcdef0123456789abcdef',
        request: {
          method: 'POST',
          url: `https://api.example.com/api/v1/__test/echo?to=${PHONE}&password=hunter2`,
          query_string: `to=${PHONE}&password=hunter2`,
          headers: { authorization: `Bearer ${JWT}`, cookie: 'sid=hunter2', 'user-agent': 'x' },
          cookies: { sid: 'hunter2' },
          data: { to: PHONE, password: 'hunter2' },
        },
        user: { ip_address: '203.0.113.9', email: 'bea@example.com' },
        exception: {
          values: [
            {
              type: 'Error',
              value: `send to ${PHONE} failed`,
              stacktrace: { frames: [{ function: 'f', vars: { to: PHONE, token: JWT } }] },
            },
          ],
        },
        tags: { requestId: 'rid-1', messageId: '0f1e2d3c-1234-4234-8234-123456789012' },
        extra: {
          body: { apiKey: 'k-123', nested: { password: 'hunter2', note: `call ${PHONE}` } },
        },
        contexts: {
          trace: { trace_id: '12345678901234567890123456789012', span_id: '1234567890123456' },
        },
      },
      SECRETS,
    );
    expectClean(event);
    expect(event.request).toEqual({
      method: 'POST',
      url: 'https://api.example.com/api/v1/__test/echo',
    });
    expect(event.user).toBeUndefined();
    expect(event.exception?.values?.[0].value).toBe('send to +14*******23 failed');
    expect(event.exception?.values?.[0].stacktrace?.frames?.[0]).toEqual({ function: 'f' });
    expect(event.tags).toEqual({
      requestId: 'rid-1',
      messageId: '0f1e2d3c-1234-4234-8234-123456789012',
    });
    expect(event.extra).toEqual({
      body: { apiKey: REDACTED, nested: { password: REDACTED, note: 'call +14*******23' } },
    });
    expect(event.event_id).toBe('0123456789abcdef0123456789abcdef');
    expect(event.contexts?.trace?.trace_id).toBe('12345678901234567890123456789012');
  });
});

describe('scrubBreadcrumb', () => {
  it('should drop the query and fragment of an outgoing request and scrub its texts', () => {
    const crumb = scrubBreadcrumb(
      {
        category: 'http',
        message: `GET https://api.twilio.com/Messages.json?To=${PHONE}`,
        data: {
          url: `https://api.twilio.com/Messages.json?To=${PHONE}`,
          'http.query': `To=${PHONE}`,
          'http.fragment': 'rc=3',
          method: 'GET',
          status_code: 200,
        },
      },
      SECRETS,
    );
    expectClean(crumb);
    expect(crumb.data).toEqual({
      url: 'https://api.twilio.com/Messages.json',
      method: 'GET',
      status_code: 200,
    });
  });
});

describe('secretsOf', () => {
  it("should list the config's secrets, the URLs' passwords included, longest first", () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      DATABASE_URL: 'postgres://app:db-password-42@127.0.0.1:5432/x',
      REDIS_URL: 'redis://:redis-secret-1@127.0.0.1:6379',
      METRICS_AUTH: 'prom:metrics-password',
    });
    const secrets = secretsOf(config);
    expect(secrets).toEqual(
      expect.arrayContaining([
        TWILIO_TOKEN,
        'db-password-42',
        'redis-secret-1',
        'metrics-password',
        config.jwt.secret,
        String(config.admin.password),
      ]),
    );
    expect([...secrets].sort((a, b) => b.length - a.length)).toEqual(secrets);
  });
});
