import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { TypeOrmHealthIndicator } from '@nestjs/terminus';
import { pino } from 'pino';
import { MigrationsHealthIndicator } from '../../src/modules/health/migrations.health';
import { RedisHealthIndicator } from '../../src/modules/health/redis.health';
import { adminToken, createUser } from '../factories/users.factory';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestApp, type TestApp } from '../support/test-app';
import { REDIS_URL } from '../support/test-env';

interface Terminus {
  status: string;
  info: Record<string, Record<string, unknown>>;
  error: Record<string, Record<string, unknown>>;
  details: Record<string, Record<string, unknown>>;
}

describe('health details and probe caching', () => {
  const redis = new URL(REDIS_URL);
  let redisProxy: TcpProxy;
  let test: TestApp;
  let logged = '';
  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    redisProxy = await new TcpProxy(redis.hostname, Number(redis.port || 6379)).start();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    test = await startTestApp(
      { ROLE: 'api', LOG_LEVEL: 'warn', REDIS_URL: redisProxy.rewrite(REDIS_URL) },
      undefined,
      pino({ level: 'warn' }, sink),
    );
    // Nest buffers its Logger's lines until listen(); these tests only inject.
    test.app.flushLogs();
    admin = await adminToken(test.app);
    viewer = (await createUser(test.app, 'viewer')).token;
  });

  afterAll(async () => {
    await test.close();
    await redisProxy.stop();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  const details = (token?: string) =>
    test.app.inject({
      method: 'GET',
      url: '/api/v1/health/details',
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });

  const probe = (path: string) => test.app.inject({ method: 'GET', url: `/api/v1/health${path}` });

  it('should answer /health/details 401 without a token, 403 to a viewer and 200 to an admin', async () => {
    const anonymous = await details();
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    expect((await details('not.a.token')).statusCode).toBe(401);
    const forbidden = await details(viewer);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ code: 'FORBIDDEN' });
    const answer = await details(admin);
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.json<Terminus>()).toMatchObject({
      status: 'ok',
      details: {
        postgres: { status: 'up' },
        migrations: { status: 'up' },
        redis: { status: 'up' },
      },
    });
  });

  it('should check Postgres at most a couple of times for 50 concurrent readiness probes', async () => {
    const postgres = jest.spyOn(TypeOrmHealthIndicator.prototype, 'pingCheck');
    const migrations = jest.spyOn(test.app.get(MigrationsHealthIndicator), 'check');
    const answers = await Promise.all(Array.from({ length: 50 }, () => probe('/ready')));
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(50).fill(200));
    // One round, or two if the first settled and aged out while the batch was arriving.
    expect(postgres.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(postgres.mock.calls.length).toBeLessThanOrEqual(2);
    expect(migrations.mock.calls.length).toBeLessThanOrEqual(2);

    postgres.mockClear();
    const overall = await Promise.all(Array.from({ length: 50 }, () => probe('')));
    expect(overall.map((answer) => answer.statusCode)).toEqual(Array(50).fill(200));
    expect(postgres.mock.calls.length).toBeLessThanOrEqual(2);
  });

  it('should never check a dependency for liveness', async () => {
    const postgres = jest.spyOn(TypeOrmHealthIndicator.prototype, 'pingCheck');
    const redisPing = jest.spyOn(test.app.get(RedisHealthIndicator), 'ping');
    const answers = await Promise.all(Array.from({ length: 10 }, () => probe('/live')));
    expect(answers.map((answer) => answer.statusCode)).toEqual(Array(10).fill(200));
    expect(postgres).not.toHaveBeenCalled();
    expect(redisPing).not.toHaveBeenCalled();
  });

  it('should keep what a down check said out of the probes, log it once per round and show it to admins', async () => {
    const redisPing = jest.spyOn(test.app.get(RedisHealthIndicator), 'ping');
    logged = '';
    redisProxy.cut();
    try {
      let overall = await probe('');
      for (let i = 0; i < 50 && overall.statusCode !== 503; i += 1) {
        await sleep(100);
        overall = await probe('');
      }
      expect(overall.statusCode).toBe(503);
      const storm = await Promise.all(Array.from({ length: 20 }, () => probe('')));
      for (const answer of [overall, ...storm]) {
        const body = answer.json<Terminus>();
        expect(body.error.redis).toEqual({ status: 'down' });
        expect(answer.body).not.toMatch(/message|no answer|ECONN|closed/i);
      }

      const warnings = logged
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { msg?: string; down?: Record<string, unknown> })
        .filter((line) => line.msg === 'Health check found a dependency down');
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings.length).toBeLessThanOrEqual(redisPing.mock.calls.length);
      expect(warnings[0].down).toEqual({
        redis: { status: 'down', message: expect.any(String) },
      });

      const reported = await details(admin);
      expect(reported.statusCode).toBe(200);
      expect(reported.json<Terminus>().details.redis).toEqual({
        status: 'down',
        message: expect.any(String),
      });
    } finally {
      redisProxy.restore();
    }
    // And it comes back (leaving no reconnection in flight at close).
    let overall = await probe('');
    for (let i = 0; i < 60 && overall.statusCode !== 200; i += 1) {
      await sleep(100);
      overall = await probe('');
    }
    expect(overall.statusCode).toBe(200);
  });
});
