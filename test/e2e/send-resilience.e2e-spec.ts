import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { spawnApp, waitForListening, type AppProcess } from '../support/app-process';
import { SIM_ACCOUNT_SID, SIM_AUTH_TOKEN } from '../support/simulator';
import { ACCEPTED, Stack } from '../support/stack';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestApp, type TestApp } from '../support/test-app';
import { REDIS_URL, testDatabaseUrl } from '../support/test-env';

const TO = '+14155550100';

async function sendMany(
  stack: Stack,
  count: number,
  label: string,
  parallel = 1,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - i) }, (_, j) =>
        stack.send({ to: TO, message: `${label} ${i + j}` }),
      ),
    );
    for (const res of batch) {
      expect(res.statusCode).toBe(202);
      ids.push(res.json<{ id: string }>().id);
    }
  }
  return ids;
}

async function expectEachSentOnce(stack: Stack, ids: string[]): Promise<void> {
  const truth = await stack.truth();
  const counts = new Map(truth.creates.map((create) => [create.mid, create.accepted]));
  expect(ids.map((id) => counts.get(id))).toEqual(ids.map(() => 1));
  for (const id of ids) {
    const row = await stack.row(id);
    expect(truth.messages.find((message) => message.mid === id)?.sid).toBe(row.twilio_sid);
  }
}

describe('Redis outage', () => {
  it('should keep answering 202 while Redis is cut for 30 s, then deliver every message once', async () => {
    const redis = new URL(REDIS_URL);
    const proxy = await new TcpProxy(redis.hostname, Number(redis.port || 6379)).start();
    const stack = await Stack.start({ WINDOW_CHECK: 'off', REDIS_URL: proxy.rewrite(REDIS_URL) });
    try {
      proxy.cut();
      const started = Date.now();
      const slowest: number[] = [];
      const ids: string[] = [];
      while (Date.now() - started < 30_000) {
        const before = Date.now();
        ids.push(...(await sendMany(stack, 2, 'outage')));
        slowest.push(Date.now() - before);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      // Measured, not asserted: the enqueue wait is bounded by ENQUEUE_TIMEOUT_MS.
      process.stdout.write(
        `send latency during the Redis outage: max ${Math.max(...slowest)} ms for 2 sends\n`,
      );
      const [{ n }] = await stack.db.query<{ n: number }[]>(
        "SELECT count(*)::int AS n FROM whatsapp_messages WHERE id = ANY($1) AND status = 'pending'",
        [ids],
      );
      expect(n).toBe(ids.length);
      proxy.restore();
      for (const id of ids) await stack.waitFor(id, ACCEPTED, 60_000);
      await expectEachSentOnce(stack, ids);
    } finally {
      proxy.restore();
      await stack.close();
      await proxy.stop();
    }
  }, 120_000);
});

describe('Redis data loss', () => {
  it('should send every message once after the queue keys are deleted under load', async () => {
    const stack = await Stack.start({
      WINDOW_CHECK: 'off',
      TWILIO_MPS: '100',
      SEND_RATE_LIMIT: '100000',
    });
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const sending = sendMany(stack, 400, 'lost', 20);
      // Mid-burst: the queue holds waiting jobs (100 a second go out), and sends keep coming.
      const queueKeys = `${stack.test.config.redis.queuePrefix}:*`;
      let deleted = 0;
      for (let i = 0; i < 100 && deleted === 0; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const waiting = await redis.keys(queueKeys);
        if (
          waiting.length > 0 &&
          (await redis.llen(`${stack.test.config.redis.queuePrefix}:outbound:wait`)) > 50
        ) {
          deleted = await redis.del(...waiting);
        }
      }
      expect(deleted).toBeGreaterThan(0);
      const ids = await sending;
      for (const id of ids) await stack.waitFor(id, ACCEPTED, 90_000);
      await expectEachSentOnce(stack, ids);
    } finally {
      redis.disconnect();
      await stack.close();
    }
  }, 150_000);
});

describe('TWILIO_MPS', () => {
  it('should keep 2,000 sends to one sender within TWILIO_MPS in any sliding second', async () => {
    const mps = 250;
    const stack = await Stack.start({
      WINDOW_CHECK: 'off',
      TWILIO_MPS: String(mps),
      SEND_RATE_LIMIT: '100000',
    });
    try {
      const ids = await sendMany(stack, 2000, 'mps', 50);
      await stack.settle(60_000);
      const truth = await stack.truth();
      const times = truth.messages
        .filter((message) => message.mid !== null && ids.includes(message.mid))
        .map((message) => Date.parse(message.createdAt))
        .sort((a, b) => a - b);
      expect(times).toHaveLength(2000);
      await expectEachSentOnce(stack, ids.slice(0, 50));
      // The send budget spaces a sender's creates 1000 / MPS ms apart: a sliding second holds MPS
      // reserved slots, plus the few a late timer or a busy event loop pushed into it (a fifth
      // of MPS leaves room for 200 ms of lateness on a loaded machine); the whole run cannot be
      // faster than (N − 1) / MPS.
      let busiest = 0;
      for (let i = 0, j = 0; i < times.length; i += 1) {
        while (times[j] <= times[i] - 1000) j += 1;
        busiest = Math.max(busiest, i - j + 1);
      }
      const spanSeconds = (times[times.length - 1] - times[0]) / 1000;
      process.stdout.write(
        `2000 sends at TWILIO_MPS=${mps}: ${spanSeconds.toFixed(1)} s, busiest sliding second ${busiest}\n`,
      );
      expect(busiest).toBeLessThanOrEqual(mps * 1.2);
      expect(spanSeconds).toBeGreaterThanOrEqual(1999 / mps - 0.1);
    } finally {
      await stack.close();
    }
  }, 120_000);
});

describe("a worker killed between Twilio's answer and the database write", () => {
  let worker: AppProcess | undefined;
  let recovery: TestApp | undefined;

  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await recovery?.close();
  });

  it('should leave exactly one Twilio message per send after recovery', async () => {
    const prefix = `kill${randomBytes(3).toString('hex')}`;
    const pg = new URL(testDatabaseUrl());
    const slowDb = await new TcpProxy(pg.hostname, Number(pg.port || 5432)).start();
    slowDb.delayMs = 150;
    const stack = await Stack.start({ ROLE: 'api', REDIS_PREFIX: prefix, WINDOW_CHECK: 'off' });
    try {
      worker = spawnApp({
        NODE_ENV: 'test',
        ROLE: 'worker',
        PORT: '0',
        LOG_LEVEL: 'info',
        DATABASE_URL: slowDb.rewrite(testDatabaseUrl()),
        REDIS_URL,
        REDIS_PREFIX: prefix,
        TWILIO_ACCOUNT_SID: SIM_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: SIM_AUTH_TOKEN,
        TWILIO_API_BASE_URL: stack.sim.url,
        TWILIO_MPS: '20',
      });
      await waitForListening(worker);
      const ids = await sendMany(stack, 40, 'kill');
      for (let i = 0; i < 200; i += 1) {
        const { creates } = await stack.truth();
        if (creates.filter((create) => create.accepted > 0).length >= 8) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Twilio answers in a millisecond; the database takes 150 ms a round trip. Cutting it now
      // strands the sends whose answer has not been written, then the worker dies hard.
      slowDb.cut();
      await new Promise((resolve) => setTimeout(resolve, 300));
      worker.child.kill('SIGKILL');
      await worker.exited;
      const truth = await stack.truth();
      const created = new Set(
        truth.creates.filter((create) => create.accepted > 0).map((create) => create.mid),
      );
      const stranded = await stack.db.query<{ id: string }[]>(
        "SELECT id FROM whatsapp_messages WHERE id = ANY($1) AND status = 'dispatching' AND twilio_sid IS NULL",
        [ids],
      );
      const createdButUnrecorded = stranded.filter((row) => created.has(row.id));
      process.stdout.write(
        `stranded after kill -9: ${stranded.length}, of which Twilio had created ${createdButUnrecorded.length}\n`,
      );
      expect(createdButUnrecorded.length).toBeGreaterThan(0);

      recovery = await startTestApp({
        ROLE: 'worker',
        REDIS_PREFIX: prefix,
        TWILIO_ACCOUNT_SID: SIM_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN: SIM_AUTH_TOKEN,
        TWILIO_API_BASE_URL: stack.sim.url,
      });
      for (const id of ids) await stack.waitFor(id, ACCEPTED, 60_000);
      await expectEachSentOnce(stack, ids);
    } finally {
      await stack.close();
      await slowDb.stop();
    }
  }, 120_000);
});
