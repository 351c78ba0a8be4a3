import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LightMyRequestResponse } from 'fastify';
import { DataSource } from 'typeorm';
import { dropDatabase, ensureDatabase, runMigrations } from '../../src/database/database-setup';
import { adminToken, createUser, type TestUser } from '../factories/users.factory';
import { signedWebhook } from '../support/signed-webhook';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestApp, testConfig, type TestApp } from '../support/test-app';
import { databaseUrlFor, REDIS_URL } from '../support/test-env';

const METRICS = '/api/v1/whatsapp/delivery-metrics';
const STATUS = '/api/v1/whatsapp/status';
const DAY_MS = 24 * 3600_000;

const get = (test: TestApp, url: string, token: string) =>
  test.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

const metricsUrl = (since: string, until?: string) =>
  `${METRICS}?since=${encodeURIComponent(since)}${until ? `&until=${encodeURIComponent(until)}` : ''}`;

describe('delivery-metrics window', () => {
  let test: TestApp;
  let viewer: TestUser;

  beforeAll(async () => {
    test = await startTestApp({ ROLE: 'api' });
    viewer = await createUser(test.app, 'viewer');
  });

  afterAll(async () => {
    await test.close();
  });

  it.each([
    ['since=2000-01-01 (until now)', metricsUrl('2000-01-01')],
    [
      '31 days and one second',
      metricsUrl(
        '2024-01-01T00:00:00Z',
        new Date(Date.parse('2024-01-01') + 31 * DAY_MS + 1000).toISOString(),
      ),
    ],
  ])(
    'should refuse a window wider than 31 days: %s → 400 VALIDATION_FAILED',
    async (_label, url) => {
      const res = await get(test, url, viewer.token);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [{ field: 'since', message: expect.stringContaining('31 days') }],
      });
    },
  );

  it('should accept a window of exactly 31 days', async () => {
    const until = '2024-02-01T00:00:00.000Z';
    const res = await get(test, metricsUrl('2024-01-01T00:00:00Z', until), viewer.token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ since: '2024-01-01T00:00:00.000Z', until, total: 0 });
  });

  it.each([
    ['since after until', '2024-01-02T00:00:00Z', '2024-01-01T00:00:00Z'],
    ['since equal to until', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'],
  ])('should refuse %s with 400 VALIDATION_FAILED', async (_label, since, until) => {
    const res = await get(test, metricsUrl(since, until), viewer.token);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'since', message: 'since must be before until' }],
    });
  });

  it('should default to the last 24 h', async () => {
    const res = await get(test, METRICS, viewer.token);
    expect(res.statusCode).toBe(200);
    const { since, until } = res.json<{ since: string; until: string }>();
    expect(Date.parse(until) - Date.parse(since)).toBe(DAY_MS);
  });
});

describe('per-user read limit', () => {
  let test: TestApp;

  beforeAll(async () => {
    test = await startTestApp({ ROLE: 'api', READ_RATE_LIMIT: '3', WINDOW_CHECK: 'off' });
  });

  afterAll(async () => {
    await test.close();
  });

  const limitedAnswers = (answers: LightMyRequestResponse[]) => {
    const limited = answers.filter((res) => res.statusCode === 429);
    const served = answers.filter((res) => res.statusCode !== 429);
    return { limited, served };
  };

  it('should answer 429 RATE_LIMITED with Retry-After past READ_RATE_LIMIT reads in a second, over every read route together', async () => {
    const user = await createUser(test.app, 'sender');
    const answers = await Promise.all(
      [
        '/api/v1/whatsapp/messages',
        METRICS,
        '/api/v1/contacts/%2B14155550100',
        `/api/v1/whatsapp/delivery-status/${randomUUID()}`,
        '/api/v1/whatsapp/messages?limit=1',
        METRICS,
      ].map((url) => get(test, url, user.token)),
    );
    const { limited, served } = limitedAnswers(answers);
    expect(served).toHaveLength(3);
    expect(limited).toHaveLength(3);
    for (const res of served) {
      expect(res.statusCode).not.toBeGreaterThanOrEqual(500);
      expect(res.headers['ratelimit-limit']).toBe('3');
      expect(Number(res.headers['ratelimit-reset'])).toBeGreaterThan(0);
    }
    expect(served.map((res) => res.headers['ratelimit-remaining']).sort()).toEqual(['0', '1', '2']);
    for (const res of limited) {
      expect(res.json()).toMatchObject({ code: 'RATE_LIMITED', statusCode: 429 });
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }

    // Per user, and never the send limit's counter.
    const other = await createUser(test.app, 'viewer');
    expect((await get(test, METRICS, other.token)).statusCode).toBe(200);
    const send = await test.app.inject({
      method: 'POST',
      url: '/api/v1/whatsapp/send',
      headers: { authorization: `Bearer ${user.token}` },
      payload: { to: '+14155550100', message: 'reads do not count' },
    });
    expect(send.statusCode).toBe(202);
    expect(send.headers['ratelimit-limit']).toBe('100');
    expect(send.headers['ratelimit-remaining']).toBe('99');
  });

  it("should limit the admin's reads of users and API keys, and leave health and /metrics alone", async () => {
    const token = await adminToken(test.app);
    const answers = await Promise.all(
      ['/api/v1/users', '/api/v1/api-keys', '/api/v1/users', '/api/v1/api-keys'].map((url) =>
        get(test, url, token),
      ),
    );
    expect(limitedAnswers(answers).limited.length).toBeGreaterThanOrEqual(1);
    expect(answers.every((res) => [200, 429].includes(res.statusCode))).toBe(true);
    for (const url of ['/api/v1/health/live', '/metrics', '/api/v1/health/live', '/metrics']) {
      const res = await get(test, url, token);
      expect(res.statusCode).not.toBe(429);
      expect(res.headers['ratelimit-limit']).toBeUndefined();
    }
  });

  it('should fail open while Redis is unreachable: reads keep working', async () => {
    const redis = new URL(REDIS_URL);
    const proxy = await new TcpProxy(redis.hostname, Number(redis.port || 6379)).start();
    const cut = await startTestApp({
      ROLE: 'api',
      READ_RATE_LIMIT: '1',
      REDIS_URL: proxy.rewrite(REDIS_URL),
    });
    try {
      const user = await createUser(cut.app, 'viewer');
      proxy.cut();
      await sleep(100);
      const answers = [];
      for (let i = 0; i < 3; i += 1) answers.push(await get(cut, METRICS, user.token));
      expect(answers.map((res) => res.statusCode)).toEqual([200, 200, 200]);
      // The limit still ran: it could not count, so it let every read through.
      expect(answers.map((res) => res.headers['ratelimit-limit'])).toEqual(['1', '1', '1']);
    } finally {
      await cut.close();
      await proxy.stop();
    }
  });
});

describe('bounded reads beside webhooks', () => {
  // Its own database: 200,000 seeded messages must not slow the other files' reads.
  const url = databaseUrlFor(`wa_test_${Date.now()}_${randomBytes(3).toString('hex')}_reads`);
  let test: TestApp;
  let viewer: TestUser;
  let db: DataSource;

  beforeAll(async () => {
    await ensureDatabase(url);
    await runMigrations({ url, poolSize: 2 });
    const config = testConfig({ DATABASE_URL: url, ROLE: 'api', READ_RATE_LIMIT: '1000' });
    // Reads that cannot finish: the seed takes far longer to scan than the statement timeout
    // (200,000 messages in the window: ~170 ms on a fast machine, so a margin of over 3x; with
    // 50,000 a fast machine finished them in time and nothing was shed), and a queued read gives
    // up before the 20th gets a connection.
    Object.assign(config.database, { readStatementTimeoutMs: 50, readWaitMs: 300 });
    test = await startTestApp({}, config);
    viewer = await createUser(test.app, 'viewer');
    db = test.app.get(DataSource);
    await db.query(
      `INSERT INTO whatsapp_messages (direction, "to", status, attempts, max_attempts, created_at,
                                      accepted_at, sent_at, delivered_at, read_at, error_code)
       SELECT 'outbound', 'whatsapp:+14155550100', (ARRAY['delivered', 'read', 'failed', 'sent'])[1 + i % 4],
              1, 8, t, t, t + interval '1 second', t + interval '3 seconds', t + interval '9 seconds',
              CASE WHEN i % 4 = 2 THEN 30000 + i % 7 END
         FROM generate_series(1, 200000) AS i,
              LATERAL (SELECT timestamptz '2001-01-01' + i * interval '12 seconds' AS t) AS x`,
    );
    await db.query('ANALYZE whatsapp_messages');
  });

  afterAll(async () => {
    await test?.close();
    await dropDatabase(url);
  });

  /** Messages as the worker leaves them, waiting for their callbacks. */
  async function seedAccepted(count: number): Promise<{ id: string; sid: string }[]> {
    const sids = Array.from({ length: count }, () => `SM${randomBytes(16).toString('hex')}`);
    return db.query<{ id: string; sid: string }[]>(
      `INSERT INTO whatsapp_messages (direction, twilio_sid, "to", body, status, attempts, max_attempts)
       SELECT 'outbound', sid, 'whatsapp:+14155550100', 'x', 'accepted', 1, 8 FROM unnest($1::text[]) AS sid
       RETURNING id, twilio_sid AS sid`,
      [sids],
    );
  }

  function signedStatus(message: { id: string; sid: string }, status: string) {
    const path = `${STATUS}?mid=${message.id}`;
    const params = {
      AccountSid: test.config.twilio.accountSid,
      MessageSid: message.sid,
      MessageStatus: status,
      SmsSid: message.sid,
      SmsStatus: status,
      From: 'whatsapp:+14155238886',
      To: 'whatsapp:+14155550100',
    };
    return signedWebhook(test, path, params);
  }

  /** Waits until Postgres is running `n` metrics statements of this database at once. */
  async function metricsRunning(n: number): Promise<void> {
    for (let i = 0; i < 1000; i += 1) {
      const [{ running }] = await db.query<{ running: number }[]>(
        `SELECT count(*)::int AS running FROM pg_stat_activity
          WHERE datname = current_database() AND state = 'active' AND query LIKE '%failedAfterSent%'
            AND pid <> pg_backend_pid()`,
      );
      if (running >= n) return;
      await sleep(5);
    }
    throw new Error(`never saw ${n} metrics statements running`);
  }

  it('should answer every signed status callback 200 while 20 heavy metrics calls run, and shed those with 503, never 500', async () => {
    const messages = await seedAccepted(20);
    const heavy = Array.from({ length: 20 }, () =>
      get(test, metricsUrl('2001-01-01T00:00:00Z', '2001-01-31T00:00:00Z'), viewer.token),
    );
    // The read pool is full (three connections of the default ten), the rest are queued.
    await metricsRunning(3);
    const callbacks = await Promise.all(
      messages.map((message) => signedStatus(message, 'delivered')),
    );
    expect(callbacks.map((res) => res.statusCode)).toEqual(messages.map(() => 200));

    const reads = await Promise.all(heavy);
    expect(reads.filter((res) => res.statusCode !== 200 && res.statusCode !== 503)).toEqual([]);
    const shed = reads.filter((res) => res.statusCode === 503);
    expect(shed.length).toBeGreaterThan(0);
    for (const res of shed) {
      expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', statusCode: 503 });
      expect(res.headers['retry-after']).toBe('5');
    }
    const [{ delivered }] = await db.query<{ delivered: number }[]>(
      `SELECT count(*)::int AS delivered FROM whatsapp_messages WHERE id = ANY($1) AND status = 'delivered'`,
      [messages.map((message) => message.id)],
    );
    expect(delivered).toBe(20);
  });

  it('should still answer a metrics call that fits within the bounds', async () => {
    const res = await get(
      test,
      metricsUrl('2000-12-01T00:00:00Z', '2000-12-31T00:00:00Z'),
      viewer.token,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ total: 0 });
  });
});
