import { SIMULATOR_MAIN, spawnApp, waitForListening } from '../support/app-process';
import { REDIS_URL, testDatabaseUrl } from '../support/test-env';

function baseEnv(): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: testDatabaseUrl(),
    REDIS_URL,
    TEST_ERROR_ROUTE: 'on',
    LOG_LEVEL: 'info',
    SIMULATOR_PORT: '0',
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

  it('should start the Twilio simulator in-process when TWILIO_API_BASE_URL is unset, and say where', async () => {
    const app = spawnApp(baseEnv());
    await waitForListening(app);
    const line = app
      .output()
      .split('\n')
      .find((entry) => entry.includes('Twilio simulator in use'));
    expect(line).toBeDefined();
    const { simulator } = JSON.parse(line ?? '{}') as { simulator: string };
    const config = await fetch(`${simulator}/__sim/config`);
    expect(config.status).toBe(200);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  });

  it('should not start the simulator when TWILIO_API_BASE_URL is set', async () => {
    const app = spawnApp({ ...baseEnv(), TWILIO_API_BASE_URL: 'http://127.0.0.1:9' });
    await waitForListening(app);
    expect(app.output()).not.toContain('Twilio simulator in use');
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  });
});

describe('npm run simulator', () => {
  it('should serve the Twilio API and the control API alone, with SIM_* knobs', async () => {
    const sim = spawnApp(
      { NODE_ENV: 'development', SIMULATOR_PORT: '0', SIM_FAIL_RATE: '0.25', LOG_LEVEL: 'info' },
      SIMULATOR_MAIN,
    );
    try {
      let url: string | undefined;
      for (let i = 0; i < 100 && url === undefined; i += 1) {
        url = /"url":"(http:[^"]+)"/.exec(sim.output())?.[1];
        if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(url).toBeDefined();
      const config = (await (await fetch(`${url}/__sim/config`)).json()) as { failRate: number };
      expect(config.failRate).toBe(0.25);
      const unauthorized = await fetch(
        `${url}/2010-04-01/Accounts/AC${'0'.repeat(32)}/Messages.json`,
        {
          method: 'POST',
        },
      );
      expect(unauthorized.status).toBe(401);
      expect((await fetch(`${url}/__sim/reset`, { method: 'POST' })).status).toBe(204);
    } finally {
      sim.child.kill('SIGTERM');
      expect(await sim.exited).toBe(0);
    }
  });

  it('should refuse to run in production', async () => {
    const sim = spawnApp(
      {
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://x@127.0.0.1/x',
        REDIS_URL: 'redis://127.0.0.1:6379',
        TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 'a-production-token-123',
        TWILIO_WHATSAPP_FROM: 'whatsapp:+14155550100',
        PUBLIC_BASE_URL: 'https://api.example.com',
        JWT_SECRET: 'y'.repeat(40),
        METRICS_AUTH: 'off',
      },
      SIMULATOR_MAIN,
    );
    expect(await sim.exited).toBe(1);
    expect(sim.output()).toMatch(/never runs with NODE_ENV=production/);
  });
});
