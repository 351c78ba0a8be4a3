import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from '../../bench/lib/processes';
import { DEV_ADMIN_EMAIL, DEV_ADMIN_PASSWORD } from '../../src/config/dev-defaults';
import { dropDatabase } from '../../src/database/database-setup';
import { spawnApp, waitForListening, type AppProcess } from '../support/app-process';
import { databaseUrlFor, deleteRedisKeys, REDIS_URL } from '../support/test-env';

// scripts/smoke-test.sh against the stack `npm run dev` starts: the built service with the
// development defaults (ROLE=all, signatures enforced, the Twilio simulator in-process), on a
// free port, in a database it creates and migrates itself and under a Redis prefix of its own.
const SCRIPT = join(__dirname, '..', '..', 'scripts', 'smoke-test.sh');
const ID = randomBytes(4).toString('hex');
// The global-setup prefix and a timestamp, so a run killed before afterAll is cleaned up later.
const DATABASE_URL = databaseUrlFor(`wa_test_${Date.now()}_smoke${ID}`);
const REDIS_PREFIX = `smoke${ID}`;
const METRICS_AUTH = `prom:metrics-${ID}-secret`;
const TEST_NUMBER = '+14155550123'; // a fictional 555-01xx number; the simulator accepts it
const CONTENT_SID = `HX${'0123456789abcdef'.repeat(2)}`;
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

interface ScriptRun {
  code: number;
  output: string;
  lines: string[];
}

function runSmoke(baseUrl: string, env: Record<string, string>): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [SCRIPT, baseUrl],
      { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 90_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        const output = `${stdout}${stderr}`;
        resolve({ code, output, lines: output.trim().split('\n') });
      },
    );
  });
}

describe('scripts/smoke-test.sh against the development stack', () => {
  let app: AppProcess;
  let baseUrl: string;
  const credentials = {
    SMOKE_EMAIL: DEV_ADMIN_EMAIL,
    SMOKE_PASSWORD: DEV_ADMIN_PASSWORD,
    SMOKE_METRICS_AUTH: METRICS_AUTH,
  };

  beforeAll(async () => {
    const port = await freePort();
    // What `npm run dev` runs: no NODE_ENV, ROLE, SIGNATURE_MODE or TWILIO_* given, so the
    // development defaults apply. METRICS_AUTH is set so the script's basic auth is exercised.
    app = spawnApp({
      PORT: String(port),
      SIMULATOR_PORT: '0',
      DATABASE_URL,
      REDIS_URL,
      REDIS_PREFIX,
      METRICS_AUTH,
      LOG_LEVEL: 'info',
    });
    await waitForListening(app, 45_000);
    baseUrl = `http://127.0.0.1:${port}`;
  }, 60_000);

  afterAll(async () => {
    if (app.child.exitCode === null) {
      app.child.kill('SIGTERM');
      await app.exited;
    }
    await dropDatabase(DATABASE_URL);
    await deleteRedisKeys(REDIS_PREFIX);
  });

  it('should pass every check, sending a template through the simulator, and print no secret', async () => {
    const run = await runSmoke(baseUrl, {
      ...credentials,
      SMOKE_SEND: '1',
      SMOKE_TO: TEST_NUMBER,
      SMOKE_CONTENT_SID: CONTENT_SID,
      SMOKE_TIMEOUT: '30',
    });

    expect(run.code).toBe(0);
    expect(run.lines.map((line) => /^(ok|FAIL|skip)\s+([\w-]+):/.exec(line)?.slice(1, 3))).toEqual([
      ['ok', 'live'],
      ['ok', 'ready'],
      ['ok', 'metrics'],
      ['ok', 'login'],
      ['ok', 'send'],
      ['ok', 'delivery'],
      ['ok', 'webhook'],
      ['ok', 'status-callback'],
    ]);
    expect(run.output).toContain(
      'ok   webhook: POST /api/v1/whatsapp/webhook unsigned 403 BAD_SIGNATURE',
    );
    expect(run.output).toContain(
      'ok   status-callback: POST /api/v1/whatsapp/status unsigned 403 BAD_SIGNATURE',
    );
    const delivered = /^ok {3}delivery: message ([0-9a-f-]{36}) is (\w+)$/m.exec(run.output);
    expect(delivered).not.toBeNull();
    expect(['pending', 'dispatching', 'failed', 'undelivered']).not.toContain(delivered?.[2]);

    // "Twilio" (the in-process simulator) has exactly that one template message.
    const simLine = app
      .output()
      .split('\n')
      .find((line) => line.includes('Twilio simulator in use'));
    const { simulator } = JSON.parse(simLine ?? '{}') as { simulator: string };
    const truth = (await (await fetch(`${simulator}/__sim/messages`)).json()) as {
      messages: { mid: string; contentSid: string | null }[];
    };
    expect(truth.messages).toEqual([
      expect.objectContaining({ mid: delivered?.[1], contentSid: CONTENT_SID }),
    ]);

    expect(run.output).not.toContain(DEV_ADMIN_PASSWORD);
    expect(run.output).not.toContain(METRICS_AUTH.split(':')[1]);
    expect(run.output).not.toMatch(JWT);
    expect(run.output).not.toContain(TEST_NUMBER.slice(1));
  });

  it('should stop at the login line with a wrong password, without printing it', async () => {
    const password = `wrong-password-${ID}`;
    const run = await runSmoke(baseUrl, {
      ...credentials,
      SMOKE_PASSWORD: password,
      SMOKE_METRICS_URL: 'off',
    });

    expect(run.code).toBe(1);
    expect(run.lines).toEqual([
      'ok   live: GET /api/v1/health/live 200',
      'ok   ready: GET /api/v1/health/ready 200',
      'skip metrics: SMOKE_METRICS_URL=off',
      `FAIL login: POST ${baseUrl}/api/v1/auth/login expected 200, got 401 UNAUTHORIZED`,
    ]);
    expect(run.output).not.toContain(password);
  });

  it('should say what it got when /metrics is not where it looked', async () => {
    const run = await runSmoke(baseUrl, {
      ...credentials,
      SMOKE_METRICS_URL: `${baseUrl}/api/v1/metrics`,
    });

    expect(run.code).toBe(1);
    expect(run.lines.at(-1)).toBe(
      `FAIL metrics: GET ${baseUrl}/api/v1/metrics expected 200, got 404 NOT_FOUND ` +
        '(is /metrics published here? Point SMOKE_METRICS_URL at a port-forward, or set it to off)',
    );
  });

  it('should refuse to run without credentials, before any request', async () => {
    const run = await runSmoke(baseUrl, {});

    expect(run.code).toBe(2);
    expect(run.lines).toEqual([
      'smoke-test: SMOKE_EMAIL and SMOKE_PASSWORD must be set (see --help)',
    ]);
  });

  it('should say in one line that it cannot connect once the server is down', async () => {
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);

    const run = await runSmoke(baseUrl, credentials);

    expect(run.code).toBe(1);
    const host = baseUrl.replace('http://', '');
    expect(run.lines).toEqual([
      `FAIL live: GET ${baseUrl}/api/v1/health/live: cannot connect to ${host} ` +
        '(connection refused or unreachable: is the server running?)',
    ]);
  });
});
