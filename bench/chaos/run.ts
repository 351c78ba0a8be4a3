// npm run chaos — a run anyone can repeat, with a verdict (docs: bench/README.md, "npm run chaos").
//
// Its own PostgreSQL and Redis on spare ports (services.ts), 2 api + 2 worker processes of the
// production build behind a round-robin balancer (a Kubernetes Service), the Twilio simulator in
// a process of its own made hostile (callbacks reordered, 5 % duplicated, 5 % dropped, 429
// bursts, 5xx after accepting), one events subscription whose receiver fails 10 % of the time.
// CHAOS_MESSAGES (10,000) sends to CHAOS_RECIPIENTS (500) recipients — a fifth of them write
// first (inbound messages, so free-form text may follow), the rest get templates; every send
// carries an Idempotency-Key and is posted again with it when an answer was lost — at an
// explicit TWILIO_MPS (CHAOS_MPS, 100), while the run kills a worker with -9 three times,
// restarts Redis empty, restarts PostgreSQL with -m immediate and restarts an api process. Then
// it measures, against the simulator's truth, until every message agrees (or the bounds pass),
// waits for the events, and hands everything to the verdict (verdict.ts). Exit 0 only on PASS.

import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { ensureDatabase, runMigrations } from '../../src/database/database-setup';
import { adminToken, createSubscription, PROXY_HEADERS, senderToken } from '../lib/api-client';
import { startApp, type Role } from '../lib/apps';
import { log } from '../lib/log';
import { freePort, runningProcesses, startProcess, type BenchProcess } from '../lib/processes';
import {
  CONTENT_SID,
  DIST,
  FROM,
  LOGS,
  PUBLIC_BASE_URL,
  RESULTS,
  secrets,
  stamp,
} from '../lib/settings';
import { cleanupAll, startPrivatePostgres, startPrivateRedis } from './services';
import { chaosVerdict, formatVerdict, type ChaosVerdictInput } from './verdict';

const MESSAGES = Number(process.env.CHAOS_MESSAGES ?? 10_000);
const RECIPIENTS = Number(process.env.CHAOS_RECIPIENTS ?? 500);
const MPS = Number(process.env.CHAOS_MPS ?? 100);
/** Sends posted per second at most (the client's pace; SEND_RATE_LIMIT stays at its default). */
const POST_RATE = Number(process.env.CHAOS_POST_RATE ?? 80);
/** The reconciler's first look with default settings (RECONCILE_AFTER). */
const FIRST_LOOK_S = 120;
const FINAL = new Set(['delivered', 'read', 'failed', 'undelivered', 'canceled']);

interface Proc {
  name: string;
  role: Role;
  port: number;
  process: BenchProcess;
}

/** The events receiver: fails 10 % of requests, remembers what it accepted and in what order. */
class Receiver {
  server: Server | undefined;
  url = '';
  /** Each event's first arrival (any answer), in arrival order. */
  readonly firstArrivals: { id: string; messageId: string; sequence: number }[] = [];
  private readonly seen = new Set<string>();
  readonly accepted = new Set<string>();
  posts = 0;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.posts += 1;
        let event: { id?: string; data?: { messageId?: string; sequence?: number } } = {};
        try {
          event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof event;
        } catch {
          // counted as a post; nothing to remember
        }
        const id = event.id ?? '';
        if (id && !this.seen.has(id)) {
          this.seen.add(id);
          this.firstArrivals.push({
            id,
            messageId: event.data?.messageId ?? '',
            sequence: event.data?.sequence ?? -1,
          });
        }
        const fail = Math.random() < 0.1;
        if (!fail && id) this.accepted.add(id);
        response.statusCode = fail ? 500 : 204;
        response.end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hooks`;
  }

  /** Messages whose events first arrived out of `sequence` order. */
  outOfOrder(): string[] {
    const last = new Map<string, number>();
    const bad = new Set<string>();
    for (const arrival of this.firstArrivals) {
      if (!arrival.messageId) continue;
      const previous = last.get(arrival.messageId) ?? -1;
      if (arrival.sequence <= previous) bad.add(arrival.messageId);
      last.set(arrival.messageId, Math.max(previous, arrival.sequence));
    }
    return [...bad];
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  // A fresh clone has no logs folder (it is gitignored).
  mkdirSync(LOGS, { recursive: true });
  log(
    `chaos: ${MESSAGES.toLocaleString('en-US')} sends to ${RECIPIENTS} recipients at TWILIO_MPS=${MPS}`,
  );
  const [postgres, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
  const dbUrl = postgres.urlFor('wa_chaos');
  await ensureDatabase(dbUrl);
  await runMigrations({ url: dbUrl, poolSize: 2 });
  log(`PostgreSQL on ${postgres.port}, Redis on ${redis.port}, database migrated`);

  const [simPort, publicPort, api1, api2, worker1, worker2] = await Promise.all(
    Array.from({ length: 6 }, () => freePort()),
  );
  const simulator = startProcess(
    'chaos-simulator',
    join(DIST, 'src', 'simulator', 'main.js'),
    {
      NODE_ENV: 'development',
      SIMULATOR_PORT: String(simPort),
      SIMULATOR_DELIVER_TO: `http://127.0.0.1:${publicPort}`,
      PUBLIC_BASE_URL,
      TWILIO_ACCOUNT_SID: secrets.accountSid,
      TWILIO_AUTH_TOKEN: secrets.authToken,
      TWILIO_WHATSAPP_FROM: FROM,
      SIM_CALLBACK_DELAY_MS_MIN: '50',
      SIM_CALLBACK_DELAY_MS_MAX: '1500',
      SIM_REORDER_RATE: '0.2',
      SIM_DUPLICATE_RATE: '0.05',
      SIM_DROP_RATE: '0.05',
      SIM_FIVE_XX_AFTER_ACCEPT_RATE: '0.02',
      SIM_BURST429_EVERY: '250',
      SIM_BURST429_RETRY_AFTER_S: '1',
      LOG_LEVEL: 'info',
    },
    join(LOGS, `${stamp}-chaos-simulator.log`),
  );
  await simulator.waitFor(/Twilio simulator listening/);
  const balancer = startProcess(
    'chaos-balancer',
    join(DIST, 'bench', 'balancer.js'),
    { PORT: String(publicPort), BALANCER_TARGETS: `${api1},${api2}` },
    join(LOGS, `${stamp}-chaos-balancer.log`),
  );
  await balancer.waitFor(/balancer listening/);

  const receiver = new Receiver();
  await receiver.start();
  const env = {
    DATABASE_URL: dbUrl,
    REDIS_URL: redis.url,
    TWILIO_MPS: String(MPS),
    RECONCILE_READ: 'on',
    EVENTS_ALLOW_PRIVATE: 'on',
    // Svix's schedule scaled from hours to seconds, so a failed event comes back within the run.
    EVENTS_RETRY_SCHEDULE: '1,2,4,8,15,30',
    SEND_RATE_LIMIT: '100', // the default, said out loud
  };
  const prefix = `chaos${t0}`;
  const start = async (name: string, role: Role, port: number): Promise<Proc> => ({
    name,
    role,
    port,
    process: await startApp(name, role, port, simPort, prefix, env),
  });
  const procs = new Map<string, Proc>();
  for (const proc of await Promise.all([
    start('chaos-api-1', 'api', api1),
    start('chaos-api-2', 'api', api2),
    start('chaos-worker-1', 'worker', worker1),
    start('chaos-worker-2', 'worker', worker2),
  ]))
    procs.set(proc.name, proc);

  const token = await senderToken(publicPort);
  await createSubscription(publicPort, await adminToken(publicPort), {
    url: receiver.url,
    events: ['message.status', 'message.inbound'],
  });

  // --- the faults, on a schedule, each proven ------------------------------------------------
  const faults = {
    workerPidChanges: 0,
    redisDbsizeAfterRestart: null as number | null,
    postgresStartMoved: false,
    simDropped: 0,
    simDuplicated: 0,
    apiRestarted: false,
  };
  let lastFaultEndedAt = 0;
  const restart = async (name: string, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
    const proc = procs.get(name);
    if (!proc) throw new Error(`no process ${name}`);
    const before = proc.process.child.pid;
    if (signal === 'SIGKILL') {
      proc.process.child.kill('SIGKILL');
      await new Promise((resolve) => proc.process.child.once('exit', resolve));
      await sleep(2_000);
    } else {
      await proc.process.stop();
    }
    const again = await start(name, proc.role, proc.port);
    procs.set(name, again);
    if (again.process.child.pid !== before && proc.role === 'worker') faults.workerPidChanges += 1;
    if (proc.role === 'api') faults.apiRestarted = true;
    lastFaultEndedAt = Date.now();
    log(
      `${name}: ${signal === 'SIGKILL' ? 'killed -9' : 'restarted'}, back as pid ${again.process.child.pid}`,
    );
  };
  const schedule: [number, string, () => Promise<void>][] = [
    [10, 'kill -9 chaos-worker-1', () => restart('chaos-worker-1', 'SIGKILL')],
    [
      25,
      'Redis restarted empty',
      async () => {
        await redis.restartEmpty();
        faults.redisDbsizeAfterRestart = await redis.dbsize();
        lastFaultEndedAt = Date.now();
        log(`Redis restarted empty: DBSIZE ${faults.redisDbsizeAfterRestart} right after`);
      },
    ],
    [40, 'kill -9 chaos-worker-2', () => restart('chaos-worker-2', 'SIGKILL')],
    [
      55,
      'PostgreSQL restarted -m immediate',
      async () => {
        const before = await postgres.startTime();
        await postgres.restartImmediate();
        const after = await postgres.startTime();
        faults.postgresStartMoved = after !== before;
        lastFaultEndedAt = Date.now();
        log(`PostgreSQL restarted: started ${before} → ${after}`);
      },
    ],
    [70, 'restart chaos-api-1', () => restart('chaos-api-1', 'SIGTERM')],
    [85, 'kill -9 chaos-worker-1', () => restart('chaos-worker-1', 'SIGKILL')],
  ];
  const loadStarted = Date.now();
  const faultsDone = (async () => {
    for (const [atS, what, fault] of schedule) {
      const wait = loadStarted + atS * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      log(`fault at ${atS} s: ${what}`);
      await fault().catch((error: unknown) => log(`fault "${what}" failed: ${String(error)}`));
    }
  })();

  // --- the load ------------------------------------------------------------------------------
  const recipients = Array.from(
    { length: RECIPIENTS },
    (_, index) => `+1628${String(5_000_000 + index).padStart(7, '0')}`,
  );
  const writers = new Set(recipients.slice(0, Math.floor(RECIPIENTS / 5)));
  for (const phone of writers) {
    await fetch(`http://127.0.0.1:${simPort}/__sim/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: phone, body: 'hello' }),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => undefined);
  }
  const accepted = new Set<string>();
  const clientStatuses: Record<string, number> = {};
  let reposted = 0;
  const post = async (index: number): Promise<void> => {
    const to = recipients[index % recipients.length];
    const key = `chaos-${t0}-${index}`;
    const body =
      writers.has(to) && index % 2 === 0
        ? { to, message: `chaos ${index}` }
        : { to, contentSid: CONTENT_SID };
    // Some sends are posted twice on purpose, as a client whose answer was lost would.
    const times = index % 20 === 0 ? 2 : 1;
    // A key whose first request died with its process stays "in flight" (409) until it is
    // abandoned (60 s): a client keeps trying, within a bound.
    const giveUpAt = Date.now() + 180_000;
    let answered = 0;
    while (Date.now() < giveUpAt) {
      try {
        const response = await fetch(`http://127.0.0.1:${publicPort}/api/v1/whatsapp/send`, {
          method: 'POST',
          headers: {
            ...PROXY_HEADERS,
            'content-type': 'application/json',
            authorization: `Bearer ${token}`,
            'idempotency-key': key,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        clientStatuses[response.status] = (clientStatuses[response.status] ?? 0) + 1;
        const text = await response.text();
        if (response.status === 202 || response.status === 200) {
          accepted.add((JSON.parse(text) as { id: string }).id);
          answered += 1;
          if (answered >= times) return;
          reposted += 1;
          continue;
        }
        if (response.status < 500 && response.status !== 429 && response.status !== 409) {
          throw new Error(`send ${index} → ${response.status}: ${text}`);
        }
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('send ')) throw error;
        clientStatuses.network = (clientStatuses.network ?? 0) + 1;
      }
      await sleep(500 + Math.random() * 1000);
    }
    throw new Error(`send ${index}: not accepted within 180 s`);
  };
  let next = 0;
  const posting = Array.from({ length: 16 }, async () => {
    for (;;) {
      const index = next++;
      if (index >= MESSAGES) return;
      // Paced: index i is not posted before loadStarted + i / POST_RATE.
      const due = loadStarted + (index / POST_RATE) * 1000 - Date.now();
      if (due > 0) await sleep(due);
      await post(index);
    }
  });
  await Promise.all(posting);
  const postedAt = Date.now();
  log(
    `posted: ${accepted.size} accepted (${reposted} posted again with their key), client saw ${JSON.stringify(clientStatuses)}`,
  );
  await faultsDone;

  // --- the truth, until every message agrees or the bounds pass --------------------------------
  const db = new Client({ connectionString: dbUrl });
  await db.connect();
  const ids = [...accepted];
  type Truth = {
    messages: { mid: string | null; status: string; createdAt: string; droppedCallbacks: number }[];
    creates: { mid: string; accepted: number }[];
  };
  const readTruth = async (): Promise<Truth> =>
    (await (
      await fetch(`http://127.0.0.1:${simPort}/__sim/messages`, {
        signal: AbortSignal.timeout(30_000),
      })
    ).json()) as Truth;
  const readDb = async (): Promise<Map<string, string>> => {
    const { rows } = await db.query<{ id: string; status: string }>(
      'SELECT id, status FROM whatsapp_messages WHERE id = ANY($1::uuid[])',
      [ids],
    );
    return new Map(rows.map((row) => [row.id, row.status]));
  };
  let truth = await readTruth();
  const lastCreateAt = Math.max(...truth.messages.map((message) => Date.parse(message.createdAt)));
  const clockFrom = Math.max(lastFaultEndedAt, lastCreateAt);
  const agreement: ChaosVerdictInput['agreement'] = [];
  let finalDb: Map<string, string>;
  const deadline = clockFrom + (FIRST_LOOK_S + 60 + 30) * 1000;
  for (;;) {
    truth = await readTruth();
    finalDb = await readDb();
    const byMid = new Map(truth.messages.filter((m) => m.mid).map((m) => [m.mid as string, m]));
    const sample = {
      at: Date.now(),
      agreeNoDrop: 0,
      totalNoDrop: 0,
      agreeDropped: 0,
      totalDropped: 0,
    };
    for (const id of ids) {
      const twilio = byMid.get(id);
      const dropped = (twilio?.droppedCallbacks ?? 0) > 0;
      const agrees =
        twilio !== undefined && FINAL.has(twilio.status) && finalDb.get(id) === twilio.status;
      if (dropped) {
        sample.totalDropped += 1;
        if (agrees) sample.agreeDropped += 1;
      } else {
        sample.totalNoDrop += 1;
        if (agrees) sample.agreeNoDrop += 1;
      }
    }
    agreement.push(sample);
    const all =
      sample.agreeNoDrop === sample.totalNoDrop && sample.agreeDropped === sample.totalDropped;
    if (all || Date.now() > deadline) break;
    await sleep(1_000);
  }
  log(`agreement: ${JSON.stringify(agreement.at(-1))}`);

  // --- the events ------------------------------------------------------------------------------
  let expected = 0;
  for (const started = Date.now(); Date.now() - started < 120_000;) {
    expected = Number(
      (await db.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0].n,
    );
    if (receiver.accepted.size >= expected) break;
    await sleep(1_000);
  }
  log(`events: ${receiver.accepted.size} of ${expected} delivered (${receiver.posts} posts)`);

  // --- 5xx answered by the api processes (their request log lines) ------------------------------
  const http5xx: Record<string, number> = {};
  for (const name of ['chaos-api-1', 'chaos-api-2']) {
    const text = readFileSync(join(LOGS, `${stamp}-${name}.log`), 'utf8');
    for (const match of text.matchAll(/"statusCode":(5\d\d)/g)) {
      http5xx[match[1]] = (http5xx[match[1]] ?? 0) + 1;
    }
  }
  http5xx['500'] ??= 0;
  const stats = (await (await fetch(`http://127.0.0.1:${simPort}/__sim/stats`)).json()) as {
    callbacks: { dropped: number; duplicated: number; answered: number };
  };
  faults.simDropped = stats.callbacks.dropped;
  faults.simDuplicated = stats.callbacks.duplicated;
  const byMid = new Map(truth.messages.filter((m) => m.mid).map((m) => [m.mid as string, m]));
  const { rows: applied } = await db.query<{ n: string }>(
    "SELECT count(*) AS n FROM message_status_logs WHERE source = 'callback'",
  );

  const input: ChaosVerdictInput = {
    accepted: ids.map((id) => ({ id, dropped: (byMid.get(id)?.droppedCallbacks ?? 0) > 0 })),
    finalDb: Object.fromEntries(finalDb),
    truth: Object.fromEntries(
      ids.flatMap((id) => (byMid.has(id) ? [[id, byMid.get(id)?.status as string]] : [])),
    ),
    createsPerId: Object.fromEntries(truth.creates.map((entry) => [entry.mid, entry.accepted])),
    agreement,
    lastFaultEndedAt,
    lastCreateAt,
    reconcileFirstLookSeconds: FIRST_LOOK_S,
    callbacks: {
      dropped: stats.callbacks.dropped,
      duplicated: stats.callbacks.duplicated,
      applied: Number(applied[0].n),
    },
    events: {
      expected,
      delivered: receiver.accepted.size,
      outOfOrderMessages: receiver.outOfOrder(),
    },
    http5xx,
    faults,
  };
  await db.end();
  const verdict = chaosVerdict(input);
  const summary = [
    `npm run chaos, ${new Date(t0).toISOString()}: ${MESSAGES} sends, ${RECIPIENTS} recipients, TWILIO_MPS=${MPS}, posted in ${Math.round((postedAt - loadStarted) / 1000)} s, whole run ${Math.round((Date.now() - t0) / 1000)} s`,
    `client answers: ${JSON.stringify(clientStatuses)}; posted again with their key: ${reposted}`,
    formatVerdict(verdict),
  ].join('\n');
  process.stdout.write(`\n${summary}\n`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `chaos-${stamp}.md`), `${summary}\n`);
  writeFileSync(
    join(RESULTS, `chaos-${stamp}.json`),
    `${JSON.stringify({ verdict, clientStatuses }, null, 2)}\n`,
  );
  process.exitCode = verdict.pass ? 0 : 1;
  receiver.server?.close();
}

async function stopEverything(): Promise<void> {
  await Promise.all(runningProcesses().map((child) => child.stop(5_000)));
  await cleanupAll();
}

main()
  .catch((error: unknown) => {
    process.stderr.write(
      `chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  })
  .finally(() => {
    void stopEverything().then(() => process.exit());
  });
