import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createUser, TEST_PASSWORD, uniqueEmail } from '../factories/users.factory';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestApp, testConfig, type TestApp } from '../support/test-app';
import { REDIS_URL } from '../support/test-env';

let ipCounter = 0;
/** A fresh client address per test, so counters never leak between tests. */
function nextIp(): string {
  ipCounter += 1;
  return `10.9.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 1}`;
}

function attempt(test: TestApp, email: string, password: string, ip: string) {
  return test.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
    remoteAddress: ip,
  });
}

describe('login brute-force throttling', () => {
  let test: TestApp;

  beforeAll(async () => {
    test = await startTestApp({ LOGIN_LIMIT_PER_IP: '10', LOGIN_LIMIT_PER_EMAIL: '5' });
  });

  afterAll(async () => {
    await test.close();
  });

  it('should answer 429 with Retry-After after 5 failures for one email, even with the right password', async () => {
    const user = await createUser(test.app, 'viewer');
    for (let i = 0; i < 5; i += 1) {
      expect((await attempt(test, user.email, 'wrong-password!', nextIp())).statusCode).toBe(401);
    }
    const blocked = await attempt(test, user.email, TEST_PASSWORD, nextIp());
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ code: 'RATE_LIMITED' });
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another account is not affected.
    const other = await createUser(test.app, 'viewer');
    expect((await attempt(test, other.email, TEST_PASSWORD, nextIp())).statusCode).toBe(200);
  });

  it('should answer 429 after 10 failures from one IP across many emails', async () => {
    const ip = nextIp();
    for (let i = 0; i < 10; i += 1) {
      expect((await attempt(test, uniqueEmail('spray'), 'wrong-password!', ip)).statusCode).toBe(
        401,
      );
    }
    const user = await createUser(test.app, 'viewer');
    expect((await attempt(test, user.email, TEST_PASSWORD, ip)).statusCode).toBe(429);
    expect((await attempt(test, user.email, TEST_PASSWORD, nextIp())).statusCode).toBe(200);
  });

  it('should not count successful logins', async () => {
    const user = await createUser(test.app, 'viewer');
    const ip = nextIp();
    for (let i = 0; i < 12; i += 1) {
      expect((await attempt(test, user.email, TEST_PASSWORD, ip)).statusCode).toBe(200);
    }
  });

  it('should throttle API-key exchanges per IP too', async () => {
    const ip = nextIp();
    for (let i = 0; i < 10; i += 1) {
      const res = await test.app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        payload: { apiKey: 'wak_nope' },
        remoteAddress: ip,
      });
      expect(res.statusCode).toBe(401);
    }
    const res = await test.app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      payload: { apiKey: 'wak_nope' },
      remoteAddress: ip,
    });
    expect(res.statusCode).toBe(429);
  });
});

describe('login throttling across replicas and outages', () => {
  it('should share the counters of two replicas through Redis', async () => {
    const first = await startTestApp({ LOGIN_LIMIT_PER_EMAIL: '3' });
    const config = testConfig({ LOGIN_LIMIT_PER_EMAIL: '3' });
    config.redis.keyPrefix = first.config.redis.keyPrefix;
    const second = await startTestApp({}, config);
    try {
      const user = await createUser(first.app, 'viewer');
      await attempt(first, user.email, 'wrong-password!', nextIp());
      await attempt(second, user.email, 'wrong-password!', nextIp());
      await attempt(first, user.email, 'wrong-password!', nextIp());
      expect((await attempt(second, user.email, TEST_PASSWORD, nextIp())).statusCode).toBe(429);
    } finally {
      await second.close();
      await first.close();
    }
  });

  it('should fail open while Redis is unreachable: logins keep working', async () => {
    const redis = new URL(REDIS_URL);
    const proxy = await new TcpProxy(redis.hostname, Number(redis.port || 6379)).start();
    const test = await startTestApp({
      REDIS_URL: proxy.rewrite(REDIS_URL),
      LOGIN_LIMIT_PER_EMAIL: '2',
    });
    try {
      const user = await createUser(test.app, 'viewer');
      proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let i = 0; i < 3; i += 1) await attempt(test, user.email, 'wrong-password!', nextIp());
      expect((await attempt(test, user.email, TEST_PASSWORD, nextIp())).statusCode).toBe(200);
    } finally {
      await test.close();
      await proxy.stop();
    }
  });
});

describe('secrets never reach the logs', () => {
  it('should log neither passwords, tokens nor API keys through login, user creation and key exchange', async () => {
    let logged = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    const test = await startTestApp(
      { LOG_LEVEL: 'trace' },
      undefined,
      pino({ level: 'trace' }, sink),
    );
    try {
      const user = await createUser(test.app, 'admin');
      const wrong = 'wrong-but-secret-password';
      await attempt(test, user.email, wrong, nextIp());
      const key = await test.app.inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: { authorization: `Bearer ${user.token}` },
        payload: {},
      });
      const apiKey = key.json<{ key: string }>().key;
      const traded = await test.app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        payload: { apiKey },
      });
      const accessToken = traded.json<{ accessToken: string }>().accessToken;
      await test.app.inject({
        method: 'GET',
        url: '/api/v1/users',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      await test.app.inject({
        method: 'GET',
        url: '/api/v1/__test/error',
        headers: { authorization: `Bearer ${accessToken}` },
      });
      expect(logged).toContain('request completed');
      for (const secret of [
        TEST_PASSWORD,
        wrong,
        apiKey,
        user.token,
        accessToken,
        'dev-admin-password',
      ]) {
        expect(logged).not.toContain(secret);
      }
    } finally {
      await test.close();
    }
  });
});
