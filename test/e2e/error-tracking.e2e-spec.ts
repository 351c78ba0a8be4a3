import { randomBytes } from 'node:crypto';
import { sep } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { DEV_ADMIN_EMAIL, DEV_ADMIN_PASSWORD, DEV_JWT_SECRET } from '../../src/config/dev-defaults';
import { OutboundJob, QueueName } from '../../src/queue/queue.constants';
import { spawnApp, waitForListening, type AppProcess } from '../support/app-process';
import { SentryReceiver, type ReceivedEvent } from '../support/sentry-receiver';
import {
  SIM_ACCOUNT_SID,
  SIM_AUTH_TOKEN,
  startSimulator,
  type RunningTestSimulator,
} from '../support/simulator';
import { startTestApp } from '../support/test-app';
import { deleteRedisKeys, REDIS_URL, testDatabaseUrl } from '../support/test-env';

const PHONE = '+14155550123';
const PHONE_DIGITS = '4155550123';
const PASSWORD = 'hunter2-correct-horse-battery';
const COOKIE_VALUE = 's3cr3t-cookie-value-42';
const ERROR_MESSAGE = 'Deliberate failure from the diagnostics route';

/** The modules of a package in this file's module registry (Jest's require.cache). */
function modulesLoaded(scope: string): string[] {
  return Object.keys(require.cache).filter((path) => path.includes(`${sep}${scope}${sep}`));
}

const hasTag = (key: string, value: string) => (event: ReceivedEvent) =>
  event.tags?.[key] === value;

describe('error tracking without SENTRY_DSN', () => {
  it('should not load the Sentry SDK, and still answer a 500 with an errorId', async () => {
    const test = await startTestApp({ ROLE: 'api' });
    try {
      const res = await test.app.inject({ method: 'GET', url: '/api/v1/__test/error' });
      expect(res.statusCode).toBe(500);
      expect(res.json<{ errorId: string }>().errorId).toEqual(expect.any(String));
      expect(test.config.sentryDsn).toBeUndefined();
      expect(modulesLoaded('@nestjs')).not.toEqual([]);
      expect(modulesLoaded('@sentry')).toEqual([]);
    } finally {
      await test.close();
    }
  });
});

// A real process: the SDK hooks the whole process (diagnostics channels, process listeners) and
// cannot be unloaded, so it must never be initialised inside a Jest worker other files share.
describe('error tracking with SENTRY_DSN', () => {
  const prefix = `et${randomBytes(4).toString('hex')}`;
  let receiver: SentryReceiver;
  let sim: RunningTestSimulator;
  let app: AppProcess;
  let db: Client;
  let baseUrl: string;
  let token: string;

  beforeAll(async () => {
    receiver = await new SentryReceiver().start();
    sim = await startSimulator('http://127.0.0.1:9');
    app = spawnApp({
      NODE_ENV: 'test',
      PORT: '0',
      ROLE: 'all',
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL,
      REDIS_PREFIX: prefix,
      TEST_ERROR_ROUTE: 'on',
      WINDOW_CHECK: 'off',
      TWILIO_ACCOUNT_SID: SIM_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: SIM_AUTH_TOKEN,
      TWILIO_API_BASE_URL: sim.url,
      SENTRY_DSN: receiver.dsn,
    });
    baseUrl = `http://127.0.0.1:${await waitForListening(app)}`;
    db = new Client({ connectionString: testDatabaseUrl() });
    await db.connect();
    const login = await fetch(`${baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: DEV_ADMIN_EMAIL, password: DEV_ADMIN_PASSWORD }),
    });
    token = ((await login.json()) as { accessToken: string }).accessToken;
  });

  afterAll(async () => {
    if (app.child.exitCode === null) app.child.kill('SIGKILL');
    await db?.end();
    await sim?.close();
    await receiver?.stop();
    await deleteRedisKeys(prefix);
  });

  function request(path: string, requestId: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${baseUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        cookie: `session=${COOKIE_VALUE}`,
        'x-request-id': requestId,
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  }

  async function messageStatus(id: string): Promise<string> {
    for (let tries = 0; tries < 300; tries += 1) {
      const { rows } = await db.query<{ status: string }>(
        'SELECT status FROM whatsapp_messages WHERE id = $1',
        [id],
      );
      const status = rows[0]?.status;
      if (status !== undefined && !['pending', 'dispatching'].includes(status)) return status;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`message ${id} not finished`);
  }

  it('should report a 500 with its request id and error id, and no 4xx', async () => {
    const query = `?to=${encodeURIComponent(PHONE)}&password=${PASSWORD}`;
    const invalid = await request(`/api/v1/__test/echo${query}`, 'rid-invalid-body', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: PHONE, count: 1000, password: PASSWORD }),
    });
    expect(invalid.status).toBe(400);
    const unauthenticated = await fetch(`${baseUrl}/api/v1/whatsapp/messages`, {
      headers: { 'x-request-id': 'rid-no-token' },
    });
    expect(unauthenticated.status).toBe(401);

    const failed = await request(`/api/v1/__test/error${query}`, 'rid-deliberate-500');
    expect(failed.status).toBe(500);
    const { errorId } = (await failed.json()) as { errorId: string };

    const event = await receiver.waitForEvent(hasTag('requestId', 'rid-deliberate-500'));
    expect(event.tags).toMatchObject({ errorId, role: 'all' });
    expect(event.exception?.values?.[0]).toMatchObject({ type: 'Error', value: ERROR_MESSAGE });
    // The SDK captured the request; the scrubber cut it to its method and path.
    expect(event.request).toEqual({
      method: 'GET',
      url: expect.stringMatching(/\/api\/v1\/__test\/error$/),
    });
    const requestIds = receiver.events().map((received) => received.tags?.requestId);
    expect(requestIds).not.toContain('rid-invalid-body');
    expect(requestIds).not.toContain('rid-no-token');
  });

  it('should report a job that fails unexpectedly, tagged with its message id, and not a message Twilio refused', async () => {
    const refused = await request('/api/v1/whatsapp/send', 'rid-send', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+15005550001', message: `for ${PHONE}` }),
    });
    expect(refused.status).toBe(202);
    const refusedId = ((await refused.json()) as { id: string }).id;
    expect(await messageStatus(refusedId)).toBe('failed');

    // A job the database refuses (its id is no uuid): an error dispatch does not classify.
    const messageId = `not-a-uuid-${randomBytes(4).toString('hex')}`;
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(QueueName.Outbound, { connection, prefix: `${prefix}-bull` });
    try {
      await queue.add(OutboundJob.Send, { messageId }, { jobId: `${messageId}-1` });
    } finally {
      await queue.close();
      connection.disconnect();
    }

    const event = await receiver.waitForEvent(hasTag('messageId', messageId));
    expect(event.tags).toMatchObject({ jobId: `${messageId}-1`, role: 'all' });
    expect(event.exception?.values?.[0]?.value).toContain('invalid input syntax for type uuid');
    expect(receiver.events().filter(hasTag('messageId', refusedId))).toEqual([]);
  });

  it('should flush on SIGTERM and send no credential, secret or phone number anywhere', async () => {
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    const raw = receiver.rawText();
    expect(raw).toContain(ERROR_MESSAGE);
    for (const secret of [
      token,
      token.split('.')[2],
      PASSWORD,
      COOKIE_VALUE,
      PHONE_DIGITS,
      SIM_AUTH_TOKEN,
      DEV_JWT_SECRET,
      DEV_ADMIN_PASSWORD,
    ]) {
      expect(raw).not.toContain(secret);
    }
    expect(raw).not.toMatch(/password=|[?&]to=/i);
  });
});
