import { spawnApp, waitForListening } from '../support/app-process';
import { REDIS_URL, testDatabaseUrl } from '../support/test-env';

function baseEnv(): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: testDatabaseUrl(),
    REDIS_URL,
    TEST_ERROR_ROUTE: 'on',
    LOG_LEVEL: 'info',
  };
}

describe('the service process', () => {
  it('should stop with a non-zero exit and one line per bad variable, echoing no secret', async () => {
    const app = spawnApp({
      ...baseEnv(),
      PORT: 'http',
      JWT_SECRET: 'short-secret-value',
      TWILIO_ACCOUNT_SID: 'nope',
    });
    expect(await app.exited).toBe(1);
    const lines = app.output().trim().split('\n');
    expect(lines).toEqual([
      'config: PORT is invalid: expected an integer between 0 and 65535',
      'config: TWILIO_ACCOUNT_SID is invalid: expected AC followed by 32 hex characters',
      'config: JWT_SECRET is invalid: expected at least 32 characters',
    ]);
    expect(app.output()).not.toContain('short-secret-value');
  });

  it('should refuse to start in production without its required variables', async () => {
    const app = spawnApp({ NODE_ENV: 'production' });
    expect(await app.exited).toBe(1);
    for (const name of [
      'DATABASE_URL',
      'REDIS_URL',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'PUBLIC_BASE_URL',
      'JWT_SECRET',
    ]) {
      expect(app.output()).toMatch(new RegExp(`^config: ${name} is required`, 'm'));
    }
  });

  it('should say in one line that Postgres is unreachable, where it looked, and how to start it', async () => {
    const app = spawnApp({
      ...baseEnv(),
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/whatsapp',
    });
    expect(await app.exited).toBe(1);
    const fatal = app
      .output()
      .split('\n')
      .filter((line) => line.includes('"level":"fatal"'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatch(/PostgreSQL is unreachable at 127\.0\.0\.1:1\/whatsapp/);
    expect(fatal[0]).toMatch(/Start it/);
    expect(app.output()).not.toMatch(/\n\s+at /);
  });

  it('should let an in-flight request finish on SIGTERM, then exit 0', async () => {
    const app = spawnApp(baseEnv());
    const port = await waitForListening(app);
    const inFlight = fetch(`http://127.0.0.1:${port}/api/v1/__test/slow?ms=1500`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    app.child.kill('SIGTERM');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ waitedMs: 1500 });
    expect(await app.exited).toBe(0);
    expect(app.output()).toMatch(/Shutdown complete/);
    // New connections are refused once the drain began.
    await expect(fetch(`http://127.0.0.1:${port}/api/v1/health/live`)).rejects.toThrow();
  });

  it('should exit 1 when draining takes longer than SHUTDOWN_TIMEOUT_MS', async () => {
    const app = spawnApp({ ...baseEnv(), SHUTDOWN_TIMEOUT_MS: '300' });
    const port = await waitForListening(app);
    const inFlight = fetch(`http://127.0.0.1:${port}/api/v1/__test/slow?ms=5000`).catch(() => null);
    await new Promise((resolve) => setTimeout(resolve, 200));
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(1);
    expect(app.output()).toMatch(/Shutdown timed out/);
    await inFlight;
  });
});
