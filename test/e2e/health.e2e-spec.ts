import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { adminToken } from '../factories/users.factory';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestApp, type TestApp } from '../support/test-app';
import { REDIS_URL, testDatabaseUrl } from '../support/test-env';

interface Terminus {
  status: string;
  info: Record<string, { status: string }>;
  error: Record<string, { status: string }>;
  details: Record<string, { status: string }>;
}

async function get(test: TestApp, path: string): Promise<{ status: number; body: Terminus }> {
  const res = await test.app.inject({ method: 'GET', url: `/api/v1/health${path}` });
  return { status: res.statusCode, body: res.json<Terminus>() };
}

/** Public probes carry each indicator's status and nothing else, up or down. */
function expectStatusesOnly(body: Terminus): void {
  for (const section of [body.info, body.error, body.details]) {
    for (const result of Object.values(section)) expect(Object.keys(result)).toEqual(['status']);
  }
  expect(JSON.stringify(body)).not.toMatch(/message|pending|ECONN|127\.0\.0\.1/);
}

/** Polls until the probe gives `status` (connection loss is noticed asynchronously). */
async function eventually(test: TestApp, path: string, status: number): Promise<Terminus> {
  let last = await get(test, path);
  for (let i = 0; i < 50 && last.status !== status; i += 1) {
    await sleep(100);
    last = await get(test, path);
  }
  expect(last.status).toBe(status);
  return last.body;
}

describe('health probes through cut connections', () => {
  const pg = new URL(testDatabaseUrl());
  const redis = new URL(REDIS_URL);
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;

  beforeEach(async () => {
    pgProxy = await new TcpProxy(pg.hostname, Number(pg.port || 5432)).start();
    redisProxy = await new TcpProxy(redis.hostname, Number(redis.port || 6379)).start();
  });

  afterEach(async () => {
    await pgProxy.stop();
    await redisProxy.stop();
  });

  function viaProxies(role: string): Record<string, string> {
    return {
      ROLE: role,
      DATABASE_URL: pgProxy.rewrite(testDatabaseUrl()),
      REDIS_URL: redisProxy.rewrite(REDIS_URL),
    };
  }

  it('should report ready with Postgres, migrations and Redis up', async () => {
    const test = await startTestApp(viaProxies('api'));
    try {
      const ready = await eventually(test, '/ready', 200);
      expect(ready.status).toBe('ok');
      expect(ready.details).toEqual({
        postgres: { status: 'up' },
        migrations: { status: 'up' },
        redis: { status: 'up' },
      });
      expect((await get(test, '')).status).toBe(200);
    } finally {
      await test.close();
    }
  });

  it('should turn api readiness to 503 naming postgres when Postgres goes away, keep live at 200, and recover', async () => {
    const test = await startTestApp(viaProxies('api'));
    try {
      await eventually(test, '/ready', 200);
      pgProxy.cut();
      const ready = await eventually(test, '/ready', 503);
      expect(ready.status).toBe('error');
      expect(ready.error.postgres).toEqual({ status: 'down' });
      expectStatusesOnly(ready);
      expect((await get(test, '/live')).status).toBe(200);
      const overall = await get(test, '');
      expect(overall.status).toBe(503);
      expectStatusesOnly(overall.body);
      pgProxy.restore();
      await eventually(test, '/ready', 200);
    } finally {
      await test.close();
    }
  });

  it('should keep api readiness at 200 with Redis shown down in details while Redis is away', async () => {
    const test = await startTestApp(viaProxies('api'));
    try {
      await eventually(test, '/ready', 200);
      redisProxy.cut();
      let ready = await get(test, '/ready');
      for (let i = 0; i < 50 && ready.body.details.redis.status !== 'down'; i += 1) {
        await sleep(100);
        ready = await get(test, '/ready');
      }
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('ok');
      expect(ready.body.details.redis).toEqual({ status: 'down' });
      expectStatusesOnly(ready.body);
      expect((await get(test, '/live')).status).toBe(200);
      const overall = await eventually(test, '', 503);
      expect(overall.error.redis).toEqual({ status: 'down' });
      expectStatusesOnly(overall);
    } finally {
      await test.close();
    }
  });

  it("should turn a worker's readiness to 503 naming redis when Redis goes away, and recover", async () => {
    const test = await startTestApp(viaProxies('worker'));
    try {
      await eventually(test, '/ready', 200);
      redisProxy.cut();
      const ready = await eventually(test, '/ready', 503);
      expect(ready.error.redis.status).toBe('down');
      expect(ready.details.postgres.status).toBe('up');
      expectStatusesOnly(ready);
      expect((await get(test, '/live')).status).toBe(200);
      redisProxy.restore();
      await eventually(test, '/ready', 200);
    } finally {
      await test.close();
    }
  });

  it("should turn a worker's readiness to 503 when Postgres goes away", async () => {
    const test = await startTestApp(viaProxies('worker'));
    try {
      await eventually(test, '/ready', 200);
      pgProxy.cut();
      const ready = await eventually(test, '/ready', 503);
      expect(ready.error.postgres.status).toBe('down');
      expectStatusesOnly(ready);
    } finally {
      await test.close();
    }
  });

  it('should boot and answer live while Redis is unreachable from the start', async () => {
    redisProxy.cut();
    const test = await startTestApp(viaProxies('api'));
    try {
      expect((await get(test, '/live')).status).toBe(200);
      const ready = await get(test, '/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.details.redis.status).toBe('down');
      redisProxy.restore();
      let recovered = await get(test, '/ready');
      for (let i = 0; i < 60 && recovered.body.details.redis.status !== 'up'; i += 1) {
        await sleep(100);
        recovered = await get(test, '/ready');
      }
      expect(recovered.body.details.redis.status).toBe('up');
    } finally {
      await test.close();
    }
  });

  it('should serve health and /metrics from a worker process', async () => {
    const test = await startTestApp(viaProxies('worker'));
    try {
      expect((await get(test, '/live')).status).toBe(200);
      const metrics = await test.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.statusCode).toBe(200);
      // API routes are not mounted on a worker.
      const api = await test.app.inject({ method: 'GET', url: '/api/v1/__test/error' });
      expect(api.statusCode).toBe(404);
      // A worker checks no tokens (no auth module), so its details are closed to everyone.
      for (const headers of [{}, { authorization: 'Bearer not.a.token' }]) {
        const details = await test.app.inject({
          method: 'GET',
          url: '/api/v1/health/details',
          headers,
        });
        expect(details.statusCode).toBe(401);
        expect(details.json()).toMatchObject({ code: 'UNAUTHORIZED' });
        expect(details.body).not.toContain('postgres');
      }
    } finally {
      await test.close();
    }
  });
});

describe('readiness with pending migrations', () => {
  it('should be 503 with migrations down when the schema is behind the code, naming them to admins only', async () => {
    const test = await startTestApp();
    const dataSource = test.app.get(DataSource);
    const [last] = await dataSource.query<{ id: number; timestamp: string; name: string }[]>(
      'SELECT id, timestamp, name FROM migrations ORDER BY id DESC LIMIT 1',
    );
    await dataSource.query('DELETE FROM migrations WHERE id = $1', [last.id]);
    try {
      const ready = await get(test, '/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.error.migrations).toEqual({ status: 'down' });
      expectStatusesOnly(ready.body);
      expect(JSON.stringify(ready.body)).not.toContain(last.name);
      const details = await test.app.inject({
        method: 'GET',
        url: '/api/v1/health/details',
        headers: { authorization: `Bearer ${await adminToken(test.app)}` },
      });
      expect(details.statusCode).toBe(200);
      expect(details.json<Terminus>().error.migrations).toEqual({
        status: 'down',
        pending: [last.name],
      });
    } finally {
      await dataSource.query('INSERT INTO migrations (id, timestamp, name) VALUES ($1, $2, $3)', [
        last.id,
        last.timestamp,
        last.name,
      ]);
      await test.close();
    }
  });
});
