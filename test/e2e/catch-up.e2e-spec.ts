import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { dropDatabase, ensureDatabase, runMigrations } from '../../src/database/database-setup';
import type { SimConfig } from '../../src/simulator/sim-config';
import { spawnApp, waitForListening, type AppProcess } from '../support/app-process';
import { CatchUpRepository } from '../../src/modules/delivery/catch-up/catch-up.repository';
import { CatchUpService } from '../../src/modules/delivery/catch-up/catch-up.service';
import { TwilioClient } from '../../src/modules/twilio/twilio.client';
import { Stack } from '../support/stack';
import {
  SIM_ACCOUNT_SID,
  SIM_AUTH_TOKEN,
  startSimulator,
  type RunningTestSimulator,
} from '../support/simulator';
import { TcpProxy } from '../support/tcp-proxy';
import {
  ADMIN_DATABASE_URL,
  databaseUrlFor,
  deleteRedisKeys,
  REDIS_URL,
} from '../support/test-env';

// The truth within a minute after our own faults, on real processes with default settings: a
// ROLE=all process killed with -9 mid-burst (Twilio's callbacks to it are refused while it is
// down), PostgreSQL cut (callbacks answered 503), Redis cut; each fault must be seen to cost
// callbacks (the simulator's failed count), and every message must then match the simulator's
// truth within 60 s of the fault ending. Each test has a database of its own: heartbeats and
// catch-up windows are the fleet's, and the catch-up looks at every message of its database.

const FINAL = new Set(['delivered', 'read', 'failed', 'undelivered']);
const BOUND_MS = 60_000;
const newNumber = () => `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
const template = `HX${'ab'.repeat(16)}`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** One ROLE=all process on a fixed port, its own database and Redis prefix, an in-process simulator. */
class Fleet {
  app: AppProcess | undefined;
  private token = '';
  readonly ids: string[] = [];

  private constructor(
    readonly port: number,
    readonly dbUrl: string,
    readonly sim: RunningTestSimulator,
    readonly prefix: string,
    private readonly viaDb: string,
    private readonly viaRedis: string,
  ) {}

  static async start(
    options: { db?: TcpProxy; redis?: TcpProxy; sim?: Partial<SimConfig> } = {},
  ): Promise<Fleet> {
    const port = await freePort();
    const dbUrl = databaseUrlFor(`wa_test_${Date.now()}_${randomUUID().slice(0, 6)}_catchup`);
    await ensureDatabase(dbUrl);
    await runMigrations({ url: dbUrl, poolSize: 2 });
    const base = `http://127.0.0.1:${port}`;
    // Callbacks spread over a few seconds after each create, so a fault finds many in flight.
    const sim = await startSimulator(base, {
      callbackDelayMs: { min: 300, max: 1_500 },
      ...options.sim,
    });
    const fleet = new Fleet(
      port,
      dbUrl,
      sim,
      `catchup${randomBytes(3).toString('hex')}`,
      options.db ? options.db.rewrite(dbUrl) : dbUrl,
      options.redis ? options.redis.rewrite(REDIS_URL) : REDIS_URL,
    );
    await fleet.startApp();
    return fleet;
  }

  /** Default settings but for where things are. */
  private env(): Record<string, string> {
    return {
      NODE_ENV: 'test',
      ROLE: 'all',
      PORT: String(this.port),
      LOG_LEVEL: 'info',
      DATABASE_URL: this.viaDb,
      REDIS_URL: this.viaRedis,
      REDIS_PREFIX: this.prefix,
      TWILIO_ACCOUNT_SID: SIM_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: SIM_AUTH_TOKEN,
      TWILIO_API_BASE_URL: this.sim.url,
      PUBLIC_BASE_URL: `http://127.0.0.1:${this.port}`,
    };
  }

  async startApp(): Promise<void> {
    this.app = spawnApp(this.env());
    await waitForListening(this.app, 30_000);
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.com', password: 'dev-admin-password' }),
    });
    this.token = ((await res.json()) as { accessToken: string }).accessToken;
  }

  async kill(): Promise<void> {
    this.app?.child.kill('SIGKILL');
    await this.app?.exited;
  }

  /** Posts `count` template sends (allowed outside the 24-hour window), `parallel` at a time, as a client would: again after a 429. */
  async send(count: number, parallel = 5): Promise<void> {
    for (let i = 0; i < count; i += parallel) {
      const ids = await Promise.all(
        Array.from({ length: Math.min(parallel, count - i) }, () => this.sendOne(newNumber())),
      );
      this.ids.push(...ids);
    }
  }

  private async sendOne(to: string): Promise<string> {
    for (;;) {
      const answer = await fetch(`http://127.0.0.1:${this.port}/api/v1/whatsapp/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ to, contentSid: template }),
      });
      if (answer.status === 429) {
        await sleep(Number(answer.headers.get('retry-after') ?? 1) * 1000);
        continue;
      }
      expect(answer.status).toBe(202);
      return ((await answer.json()) as { id: string }).id;
    }
  }

  private async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.dbUrl });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** Messages whose stored status is not (yet) Twilio's final one. */
  async untrue(): Promise<string[]> {
    const truth = (await (await fetch(`${this.sim.url}/__sim/messages`)).json()) as {
      messages: { mid: string | null; status: string }[];
    };
    const bySid = new Map<string, string>();
    for (const message of truth.messages) {
      if (message.mid) bySid.set(message.mid, message.status);
    }
    const rows = await this.query<{ id: string; status: string }>(
      'SELECT id, status FROM whatsapp_messages WHERE id = ANY($1)',
      [this.ids],
    );
    return rows
      .filter((row) => {
        const truthStatus = bySid.get(row.id);
        return truthStatus === undefined || !FINAL.has(truthStatus) || truthStatus !== row.status;
      })
      .map((row) => `${row.id}:${row.status}/${bySid.get(row.id) ?? 'not at Twilio'}`);
  }

  /** Milliseconds from `since` until every message is true; fails past BOUND_MS with what is not. */
  async untilTrue(since: number): Promise<number> {
    let left: string[] = [];
    while (Date.now() - since <= BOUND_MS) {
      left = await this.untrue();
      if (left.length === 0) return Date.now() - since;
      await sleep(250);
    }
    throw new Error(
      `${left.length} messages not true ${BOUND_MS / 1000} s after the fault: ${left.slice(0, 5).join(', ')}`,
    );
  }

  failedCallbacks(): number {
    const failed = this.sim.simulator.context.store.callbacks.failed;
    return failed.ct + failed.rt + failed['4xx'] + failed['5xx'];
  }

  windows(): Promise<{ reason: string; done: boolean; checked: number }[]> {
    return this.query(
      'SELECT reason, done_at IS NOT NULL AS done, checked FROM reconcile_catchups ORDER BY id',
    );
  }

  reconciled(): Promise<{ n: number }[]> {
    return this.query(
      "SELECT count(*)::int AS n FROM message_status_logs WHERE source = 'reconciler'",
    );
  }

  async close(): Promise<void> {
    await this.kill();
    await this.sim.close();
    await deleteRedisKeys(this.prefix);
    await dropDatabase(this.dbUrl);
  }
}

describe('catch-up after a fault of ours (real processes, default settings)', () => {
  it('should make every message true within 60 s after a kill -9 of a ROLE=all process mid-burst', async () => {
    const fleet = await Fleet.start();
    try {
      const sending = fleet.send(200);
      await sleep(1_500);
      await fleet.kill();
      await sending.catch(() => undefined); // posts in flight when it died are refused
      await sleep(3_000);
      await fleet.startApp();
      const back = Date.now();
      // The fault cost callbacks: Twilio's retries to a dead process were refused.
      expect(fleet.failedCallbacks()).toBeGreaterThan(0);
      const ms = await fleet.untilTrue(back);
      process.stdout.write(
        `kill -9: ${fleet.ids.length} messages true ${(ms / 1000).toFixed(1)} s after the restart; ` +
          `${fleet.failedCallbacks()} callbacks lost\n`,
      );
      const windows = await fleet.windows();
      expect(windows.map((window) => window.reason)).toContain('heartbeat');
      expect((await fleet.reconciled())[0].n).toBeGreaterThan(0);
    } finally {
      await fleet.close();
    }
  }, 150_000);

  it('should make every message true within 60 s after PostgreSQL was cut mid-burst', async () => {
    const db = await new TcpProxy(
      '127.0.0.1',
      Number(new URL(ADMIN_DATABASE_URL).port || 5432),
    ).start();
    const fleet = await Fleet.start({ db });
    try {
      await fleet.send(150);
      db.cut();
      await sleep(8_000);
      db.restore();
      const back = Date.now();
      expect(fleet.failedCallbacks()).toBeGreaterThan(0);
      const ms = await fleet.untilTrue(back);
      process.stdout.write(
        `PostgreSQL cut 8 s: ${fleet.ids.length} messages true ${(ms / 1000).toFixed(1)} s after it came back; ` +
          `${fleet.failedCallbacks()} callbacks lost\n`,
      );
      // Seen as the webhooks answering 503 (shedding) or as beats that could not be written
      // (postgres), whichever recorded it first (one fault is recorded once: integration test).
      const reasons = (await fleet.windows()).map((window) => window.reason);
      expect(
        reasons.filter((reason) => ['shedding', 'postgres'].includes(reason)).length,
      ).toBeGreaterThanOrEqual(1);
    } finally {
      await fleet.close();
      await db.stop();
    }
  }, 150_000);

  it('should record and work a catch-up window when Redis comes back', async () => {
    const redisPort = Number(new URL(REDIS_URL).port || 6379);
    const redis = await new TcpProxy(new URL(REDIS_URL).hostname, redisPort).start();
    const fleet = await Fleet.start({ redis });
    try {
      await fleet.send(20);
      redis.cut();
      await sleep(3_000);
      redis.restore();
      let windows: { reason: string; done: boolean }[] = [];
      for (let i = 0; i < 120; i += 1) {
        windows = (await fleet.windows()).filter((window) => window.reason === 'redis');
        if (windows.some((window) => window.done)) break;
        await sleep(250);
      }
      expect(windows).toHaveLength(1);
      expect(windows[0].done).toBe(true);
    } finally {
      await fleet.close();
      await redis.stop();
    }
  }, 120_000);
});

describe('healing lost callbacks on a database of their own', () => {
  const url = databaseUrlFor(`wa_test_${Date.now()}_${randomUUID().slice(0, 6)}_firstlook`);

  beforeAll(async () => {
    await ensureDatabase(url);
    await runMigrations({ url, poolSize: 2 });
  });

  afterAll(async () => {
    await dropDatabase(url);
  });

  it('should heal callbacks Twilio itself dropped at the first look, RECONCILE_AFTER after the last change', async () => {
    const stack = await Stack.start(
      {
        DATABASE_URL: url,
        WINDOW_CHECK: 'off',
        RECONCILE_AFTER: '2',
        RECONCILE_EVERY: '1',
        // A dropped `read` is healed only with it (the default leaves `delivered`).
        RECONCILE_READ: 'on',
      },
      { dropRate: 0.5 },
      { listen: true },
    );
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i += 1) {
        ids.push(
          (await stack.send({ to: newNumber(), message: `drop ${i}` })).json<{ id: string }>().id,
        );
      }
      const dropped = () => stack.sim.simulator.context.store.callbacks.dropped;
      let left = ids.length;
      for (let i = 0; i < 240 && left > 0; i += 1) {
        const truth = new Map(
          (await stack.truth()).messages.map((message) => [message.mid, message.status]),
        );
        const rows = await stack.db.query<{ id: string; status: string }[]>(
          'SELECT id, status FROM whatsapp_messages WHERE id = ANY($1)',
          [ids],
        );
        left = rows.filter((row) => truth.get(row.id) !== 'read' || row.status !== 'read').length;
        if (left > 0) await sleep(250);
      }
      expect(left).toBe(0);
      expect(dropped()).toBeGreaterThan(0);
      const [{ n }] = await stack.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM message_status_logs WHERE source = 'reconciler' AND message_id = ANY($1)`,
        [ids],
      );
      expect(n).toBeGreaterThan(0);
    } finally {
      await stack.close();
    }
  }, 120_000);

  it('should let two workers catch up overlapping windows together, fetching each message once', async () => {
    const stack = await Stack.start(
      {
        DATABASE_URL: url,
        WINDOW_CHECK: 'off',
        RECONCILE_EVERY: '3600',
        TWILIO_MPS: '0',
        SEND_RATE_LIMIT: '100000',
      },
      { dropRate: 1 },
      { listen: true },
    );
    try {
      const from = new Date(Date.now() - 1_000);
      const ids: string[] = [];
      for (let i = 0; i < 100; i += 10) {
        const answers = await Promise.all(
          Array.from({ length: 10 }, (_, j) =>
            stack.send({ to: newNumber(), message: `w${i + j}` }),
          ),
        );
        ids.push(...answers.map((answer) => answer.json<{ id: string }>().id));
      }
      await stack.settle(30_000);
      for (let i = 0; i < 100; i += 1) {
        const open = (await stack.truth()).messages.filter((message) => message.status !== 'read');
        if (open.length === 0) break;
        await sleep(100);
      }
      const to = new Date();
      // Two faults seen differently: windows that overlap but are not the same.
      const windows = stack.app.get(CatchUpRepository, { strict: false });
      expect(await windows.record({ reason: 'heartbeat', from, to })).toBe(true);
      expect(
        await windows.record({ reason: 'redis', from, to: new Date(to.getTime() + 10_000) }),
      ).toBe(true);
      const twilio = stack.app.get(TwilioClient, { strict: false });
      const fetched: string[] = [];
      const fetchMessage = twilio.fetchMessage.bind(twilio);
      twilio.fetchMessage = (sid) => {
        fetched.push(sid);
        return fetchMessage(sid);
      };
      const catchUp = stack.app.get(CatchUpService, { strict: false });
      const [a, b] = await Promise.all([catchUp.runOnce(), catchUp.runOnce()]);
      expect(a?.window).not.toBe(b?.window);
      expect((a?.checked ?? 0) + (b?.checked ?? 0)).toBe(100);
      expect(fetched).toHaveLength(100);
      expect(new Set(fetched).size).toBe(100);
      const rows = await stack.db.query<{ status: string }[]>(
        'SELECT status FROM whatsapp_messages WHERE id = ANY($1)',
        [ids],
      );
      expect(rows.every((row) => row.status === 'read')).toBe(true);
      expect(await catchUp.runOnce()).toBeNull();
    } finally {
      await stack.close();
    }
  }, 120_000);
});
