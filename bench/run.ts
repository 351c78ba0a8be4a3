// npm run bench — HTTP throughput of the production build beside a bare Fastify baseline, in a
// database of its own, against the Twilio simulator with no callback delay. Every scenario, the
// processes it starts and what differs from a real production setup: bench/README.md.
// A benchmark, never a test: nothing here asserts a number.
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, type } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { dropDatabase, ensureDatabase, runMigrations } from '../src/database/database-setup';
import { twilioSignature } from '../src/simulator/twilio-signature';
import {
  freePort,
  runningProcesses,
  startProcess,
  vmHwmMb,
  withCpu,
  type BenchProcess,
} from './lib/processes';

const ROOT = join(__dirname, '..', '..');
const DIST = join(ROOT, 'dist');
const RESULTS = join(ROOT, 'bench', 'results');
const LOGS = join(RESULTS, 'logs');

const DURATION = Number(process.env.BENCH_DURATION ?? 12);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const E2E_MESSAGES = Number(process.env.BENCH_E2E_MESSAGES ?? 20_000);
/** The MPS scenario's cap (TWILIO_MPS) and messages (10 s worth). */
const MPS = Number(process.env.BENCH_MPS ?? 80);
/** scaleOut: sends through 2 api + 2 worker processes. */
const SCALE_MESSAGES = Number(process.env.BENCH_SCALE_MESSAGES ?? 5_000);
// Enough distinct messages that the callbacks never wrap around (wrapping would test the replay
// guard instead); raise it if the result says `wrapped`.
const STATUS_MESSAGES = Number(
  process.env.BENCH_STATUS_MESSAGES ?? Math.max(20_000, DURATION * 6_000),
);
const ADMIN_URL =
  process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** BENCH_SCENARIOS=statusCallbacks,send runs only those (and the baseline); default: all. */
const ONLY = process.env.BENCH_SCENARIOS?.split(',').map((name) => name.trim());
const wanted = (name: string): boolean => ONLY === undefined || ONLY.includes(name);
const PUBLIC_BASE_URL = 'https://bench.example.com';
const FROM = 'whatsapp:+14155238886';
const CONTENT_SID = `HX${'b'.repeat(32)}`;

interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
}

type Scenarios = Record<string, unknown>;

const started = new Date();
const stamp = started.toISOString().replace(/[:.]/g, '-');
const dbName = `wa_bench_${started.getTime()}`;
const dbUrl = (() => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  return url.toString();
})();
// Every Redis key of the run starts with it (the endToEnd processes add `e`): deleted at the end.
const redisPrefix = `wabench${started.getTime()}`;
const secret = (bytes: number): string => randomBytes(bytes).toString('hex');
// Bench-only secrets, fresh every run: production refuses the development defaults.
const secrets = {
  accountSid: `AC${secret(16)}`,
  authToken: secret(16),
  jwtSecret: secret(32),
  adminEmail: 'bench-admin@bench.example.com',
  adminPassword: secret(12),
  senderEmail: 'bench-sender@bench.example.com',
  senderPassword: secret(12),
};
const peakRss: Record<string, number> = {};

function log(line: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function summarize(result: autocannon.Result): LoadResult {
  return {
    rps: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

// autocannon stops at the deadline with requests still in flight; the app finishes them after.
const SETTLE_MS = 2_000;
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** One autocannon run, with how busy each process and the machine were meanwhile. */
async function load(
  options: autocannon.Options,
  processes: Record<string, BenchProcess>,
): Promise<LoadResult & { cpuPercent: Record<string, number> }> {
  const pids: Record<string, number | 'self'> = { generator: 'self' };
  for (const [name, child] of Object.entries(processes)) pids[name] = child.child.pid ?? 0;
  const { result, cpu } = await withCpu(pids, () =>
    autocannon({ connections: CONNECTIONS, duration: DURATION, ...options }),
  );
  await settle();
  return { ...summarize(result), cpuPercent: cpu };
}

function appEnv(
  role: 'api' | 'worker' | 'all',
  port: number,
  simPort: number,
  prefix: string,
  extra: Record<string, string>,
) {
  return {
    NODE_ENV: 'production',
    ROLE: role,
    PORT: String(port),
    DATABASE_URL: dbUrl,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    TWILIO_ACCOUNT_SID: secrets.accountSid,
    TWILIO_AUTH_TOKEN: secrets.authToken,
    TWILIO_WHATSAPP_FROM: FROM,
    TWILIO_API_BASE_URL: `http://127.0.0.1:${simPort}`,
    PUBLIC_BASE_URL,
    TRUST_PROXY: '1',
    JWT_SECRET: secrets.jwtSecret,
    JWT_TTL: '3600',
    ADMIN_EMAIL: secrets.adminEmail,
    ADMIN_PASSWORD: secrets.adminPassword,
    METRICS_AUTH: 'off',
    LOG_LEVEL: 'info',
    LOGIN_LIMIT_PER_IP: '1000000',
    LOGIN_LIMIT_PER_EMAIL: '1000000',
    SEND_RATE_LIMIT: '1000000',
    READ_RATE_LIMIT: '1000000',
    TWILIO_MPS: '0',
    // What the image gives Node (its Dockerfile ENV; the k8s manifests set the same).
    NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=160',
    ...extra,
  };
}

/** BENCH_CPU_PROF=1: a V8 CPU profile of the process (app or simulator), next to its log. */
function cpuProfile(name: string): string[] {
  return process.env.BENCH_CPU_PROF === '1'
    ? ['--cpu-prof', `--cpu-prof-dir=${LOGS}`, `--cpu-prof-name=${stamp}-${name}.cpuprofile`]
    : [];
}

async function startApp(
  name: string,
  role: 'api' | 'worker' | 'all',
  port: number,
  simPort: number,
  prefix: string,
  extra: Record<string, string> = {},
): Promise<BenchProcess> {
  const app = startProcess(
    name,
    join(DIST, 'src', 'main.js'),
    appEnv(role, port, simPort, prefix, extra),
    join(LOGS, `${stamp}-${name}.log`),
    cpuProfile(name),
  );
  await app.waitFor(/"msg":"Listening"/, 60_000);
  return app;
}

async function stopAndRecord(app: BenchProcess | undefined): Promise<void> {
  if (!app) return;
  peakRss[app.name] = Math.round(Math.max(peakRss[app.name] ?? 0, app.peakRssMb()));
  await app.stop();
}

// Every request to the app comes "through the TLS-terminating proxy": production answers plain
// http with 403 HTTPS_REQUIRED.
const PROXY_HEADERS = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.10' };

async function api<T>(port: number, method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: {
      ...PROXY_HEADERS,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function senderToken(port: number): Promise<string> {
  const admin = await api<{ accessToken: string }>(port, 'POST', '/api/v1/auth/login', {
    email: secrets.adminEmail,
    password: secrets.adminPassword,
  });
  await api(
    port,
    'POST',
    '/api/v1/users',
    { email: secrets.senderEmail, password: secrets.senderPassword, role: 'sender' },
    admin.accessToken,
  );
  const sender = await api<{ accessToken: string }>(port, 'POST', '/api/v1/auth/login', {
    email: secrets.senderEmail,
    password: secrets.senderPassword,
  });
  return sender.accessToken;
}

interface SignedCallback {
  path: string;
  body: string;
  headers: Record<string, string>;
}

/** N outbound messages in `accepted` with SIDs, and one signed `delivered` callback for each. */
async function seedStatusCallbacks(
  db: Client,
  count: number,
  reference = 'bench-status',
): Promise<SignedCallback[]> {
  const { rows } = await db.query<{ id: string; twilio_sid: string; to: string }>(
    `INSERT INTO whatsapp_messages
       (direction, twilio_sid, "from", "to", content_sid, status, attempts, max_attempts,
        reference, accepted_at, created_at, updated_at)
     SELECT 'outbound', 'SM' || md5($4 || '-' || g), $2,
            'whatsapp:+1415' || lpad(g::text, 7, '0'), $3, 'accepted', 1, 8, $4,
            now(), now(), now()
       FROM generate_series(1, $1::int) AS g
     RETURNING id, twilio_sid, "to"`,
    [count, FROM, CONTENT_SID, reference],
  );
  await db.query('ANALYZE whatsapp_messages');
  return rows.map((row) => {
    const path = `/api/v1/whatsapp/status?mid=${row.id}`;
    // What Twilio posts for a WhatsApp status change.
    const params = {
      AccountSid: secrets.accountSid,
      ApiVersion: '2010-04-01',
      ChannelPrefix: 'whatsapp',
      ChannelToAddress: row.to.replace('whatsapp:', ''),
      From: FROM,
      MessageSid: row.twilio_sid,
      MessageStatus: 'delivered',
      SmsSid: row.twilio_sid,
      SmsStatus: 'delivered',
      To: row.to,
    };
    return {
      path,
      body: new URLSearchParams(params).toString(),
      headers: {
        ...PROXY_HEADERS,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        'user-agent': 'TwilioProxy/1.1',
        'x-twilio-signature': twilioSignature(
          secrets.authToken,
          `${PUBLIC_BASE_URL}${path}`,
          params,
        ),
        'i-twilio-idempotency-token': randomBytes(16).toString('hex'),
      },
    };
  });
}

/** A POST /send body to a recipient no other request of the run uses. */
function sendBody(index: number, reference: string): string {
  return JSON.stringify({
    to: `+1628${String(index).padStart(7, '0')}`,
    contentSid: CONTENT_SID,
    contentVariables: { 1: 'bench' },
    reference,
  });
}

/** POST /send requests, each to the next recipient `nextIndex` gives. */
function sendRequests(
  token: string,
  reference: string,
  nextIndex: () => number,
): autocannon.Request[] {
  return [
    {
      method: 'POST',
      path: '/api/v1/whatsapp/send',
      setupRequest: (request) => ({
        ...request,
        headers: sendHeaders(token),
        body: sendBody(nextIndex(), reference),
      }),
    },
  ];
}

function sendHeaders(token: string): Record<string, string> {
  return {
    ...PROXY_HEADERS,
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
  };
}

/**
 * Seeds `STATUS_MESSAGES` accepted messages under `reference` and sends each its signed
 * `delivered` callback at `port`; the load's figures, and how many messages really moved.
 */
async function statusCallbacks(
  db: Client,
  port: number,
  reference: string,
  processes: Record<string, BenchProcess>,
  baselineRps: number,
): Promise<Record<string, unknown>> {
  const callbacks = await seedStatusCallbacks(db, STATUS_MESSAGES, reference);
  let next = 0;
  log(`${reference}: signed \`delivered\` callbacks, one per message`);
  const status = await load(
    {
      url: `http://127.0.0.1:${port}`,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => ({ ...request, ...callbacks[next++ % callbacks.length] }),
        },
      ],
    },
    processes,
  );
  const applied = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM whatsapp_messages WHERE reference = $1 AND status = 'delivered'`,
    [reference],
  );
  return {
    rps: status.rps,
    p50Ms: status.p50Ms,
    p99Ms: status.p99Ms,
    ratioToBaseline: round(status.rps / baselineRps, 3),
    non2xx: status.non2xx,
    errors: status.errors,
    requests: status.requests,
    applied: Number(applied.rows[0].n),
    cpuPercent: status.cpuPercent,
    ...(next > callbacks.length ? { wrapped: true } : {}),
  };
}

async function endToEnd(
  db: Client,
  apiPort: number,
  token: string,
  firstIndex: number,
  count = E2E_MESSAGES,
  reference = 'bench-e2e',
): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  let next = 0;
  const posted = await autocannon({
    url: `http://127.0.0.1:${apiPort}`,
    connections: CONNECTIONS,
    amount: count,
    requests: sendRequests(token, reference, () => firstIndex + next++),
  });
  const postedAt = Date.now();
  const accepted = posted['2xx'];
  const deadline = postedAt + Math.max(120_000, count * 100);
  let done = 0;
  let failed = 0;
  while (Date.now() < deadline) {
    const { rows } = await db.query<{ done: string; failed: string }>(
      `SELECT count(*) FILTER (WHERE status IN ('delivered', 'read')) AS done,
              count(*) FILTER (WHERE status IN ('failed', 'undelivered', 'canceled')) AS failed
         FROM whatsapp_messages WHERE reference = $1`,
      [reference],
    );
    done = Number(rows[0].done);
    failed = Number(rows[0].failed);
    if (done + failed >= accepted) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const end = Date.now();
  const finished = done + failed >= accepted;
  return {
    messages: accepted,
    delivered: done,
    failed,
    non2xx: posted.non2xx,
    postSeconds: round((postedAt - t0) / 1000, 2),
    messagesPerSec: Math.round(done / ((end - t0) / 1000)),
    drainSeconds: round((end - postedAt) / 1000, 2),
    ...(finished ? {} : { timedOut: true }),
  };
}

async function resetSimulator(simPort: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${simPort}/__sim/reset`, { method: 'POST' });
  if (response.status !== 204) throw new Error(`simulator reset → ${response.status}`);
}

interface SimulatorTruth {
  messages: { mid: string | null; createdAt: string; status: string }[];
  /** Per `mid`, how many messages the simulator accepted: 1 each when nothing was sent twice. */
  creates: { mid: string; accepted: number }[];
}

async function simulatorTruth(simPort: number): Promise<SimulatorTruth> {
  const response = await fetch(`http://127.0.0.1:${simPort}/__sim/messages`);
  return (await response.json()) as SimulatorTruth;
}

/**
 * The most creates in one second: in the limiter's own windows (BullMQ's limiter opens a
 * window at the first job after the previous one ended) and in any sliding second.
 */
/** When BullMQ moved each job to active (ms, Redis' clock), from the queue's events stream. */
async function activeTimes(streamKey: string): Promise<number[]> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const entries = await redis.xrange(streamKey, '-', '+');
    return entries.flatMap(([id, fields]) => {
      const event = fields[fields.indexOf('event') + 1];
      return event === 'active' ? [Number(id.split('-')[0])] : [];
    });
  } finally {
    redis.disconnect();
  }
}

function sendWindows(times: readonly number[]): {
  count: number;
  busiestLimiterWindow: number;
  busiestSlidingSecond: number;
} {
  const sorted = [...times].sort((a, b) => a - b);
  let busiestLimiterWindow = 0;
  let windowStart = Number.NEGATIVE_INFINITY;
  let inWindow = 0;
  let busiestSlidingSecond = 0;
  let from = 0;
  for (const [to, time] of sorted.entries()) {
    if (time >= windowStart + 1000) [windowStart, inWindow] = [time, 0];
    inWindow += 1;
    busiestLimiterWindow = Math.max(busiestLimiterWindow, inWindow);
    while (sorted[from] <= time - 1000) from += 1;
    busiestSlidingSecond = Math.max(busiestSlidingSecond, to - from + 1);
  }
  return { count: sorted.length, busiestLimiterWindow, busiestSlidingSecond };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

async function cleanRedis(prefixes: string[]): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = nextCursor;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all(runningProcesses().map((child) => stopAndRecord(child)));
    if (process.env.BENCH_KEEP !== '1') {
      await dropDatabase(dbUrl).catch((error: unknown) =>
        log(`could not drop ${dbName}: ${String(error)}`),
      );
      await cleanRedis([redisPrefix]).catch((error: unknown) =>
        log(`could not clean Redis: ${String(error)}`),
      );
    }
  })();
  return cleaning;
}

function table(scenarios: Scenarios): string {
  const fmt = (value: unknown): string =>
    typeof value === 'number' ? value.toLocaleString('en-US') : value === undefined ? '' : '–';
  const rows: string[][] = [['scenario', 'rps', 'p50 ms', 'p99 ms', 'ratio to baseline']];
  for (const name of ['baseline', 'statusCallbacks', 'send', 'deliveryMetrics']) {
    const s = scenarios[name] as Partial<LoadResult & { ratioToBaseline: number }> | undefined;
    if (!s || 'skipped' in s || 'error' in s) {
      rows.push([name, 'skipped', '', '', '']);
      continue;
    }
    const ratio = name === 'baseline' ? 1 : s.ratioToBaseline;
    rows.push([name, fmt(s.rps), fmt(s.p50Ms), fmt(s.p99Ms), fmt(ratio)]);
  }
  const e2e = scenarios.endToEnd as
    { messages?: number; messagesPerSec?: number; drainSeconds?: number } | undefined;
  if (e2e?.messagesPerSec !== undefined) {
    rows.push([
      `endToEnd (${fmt(e2e.messages)} msgs, drain ${e2e.drainSeconds} s)`,
      `${fmt(e2e.messagesPerSec)} msg/s`,
      '',
      '',
      '',
    ]);
  }
  const mps = scenarios.mps as
    { twilioMps: number; busiestLimiterWindow: number; busiestSlidingSecond: number } | undefined;
  if (mps?.busiestLimiterWindow !== undefined) {
    rows.push([
      `mps (TWILIO_MPS=${mps.twilioMps}): busiest limiter window / sliding second`,
      `${mps.busiestLimiterWindow} / ${mps.busiestSlidingSecond}`,
      '',
      '',
      '',
    ]);
  }
  const scale = scenarios.scaleOut as
    | {
        statusCallbacks?: Partial<LoadResult & { ratioToBaseline: number }>;
        endToEnd?: { messages?: number; messagesPerSec?: number };
        truth?: { createdTwiceOrMore: number; notFinal: number };
      }
    | undefined;
  if (scale?.statusCallbacks) {
    const cb = scale.statusCallbacks;
    rows.push([
      'scaleOut statusCallbacks (2 api)',
      fmt(cb.rps),
      fmt(cb.p50Ms),
      fmt(cb.p99Ms),
      fmt(cb.ratioToBaseline),
    ]);
  }
  if (scale?.endToEnd?.messagesPerSec !== undefined) {
    rows.push([
      `scaleOut endToEnd (${fmt(scale.endToEnd.messages)} msgs; sent twice ${scale.truth?.createdTwiceOrMore}, not final ${scale.truth?.notFinal})`,
      `${fmt(scale.endToEnd.messagesPerSec)} msg/s`,
      '',
      '',
      '',
    ]);
  }
  return [
    `| ${rows[0].join(' | ')} |`,
    `|${rows[0].map(() => '---').join('|')}|`,
    ...rows.slice(1).map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  mkdirSync(LOGS, { recursive: true });
  const scenarios: Scenarios = {};
  const [simPort, baselinePort, apiPort, workerPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  log(`database ${dbName}, Redis prefix ${redisPrefix}, logs in bench/results/logs/${stamp}-*`);
  await ensureDatabase(dbUrl);
  await runMigrations({ url: dbUrl, poolSize: 2 });
  const db = new Client({ connectionString: dbUrl });
  // On Ctrl-C the cleanup drops the database under this connection: not an error worth a crash.
  db.on('error', (error) => log(`database connection: ${error.message}`));
  await db.connect();
  try {
    const simulator = startProcess(
      'simulator',
      join(DIST, 'src', 'simulator', 'main.js'),
      {
        NODE_ENV: 'development', // the simulator refuses production
        SIMULATOR_PORT: String(simPort),
        SIMULATOR_DELIVER_TO: `http://127.0.0.1:${apiPort}`,
        PUBLIC_BASE_URL,
        TWILIO_ACCOUNT_SID: secrets.accountSid,
        TWILIO_AUTH_TOKEN: secrets.authToken,
        TWILIO_WHATSAPP_FROM: FROM,
        SIM_CALLBACK_DELAY_MS_MIN: '0',
        SIM_CALLBACK_DELAY_MS_MAX: '0',
        LOG_LEVEL: 'info',
      },
      join(LOGS, `${stamp}-simulator.log`),
      cpuProfile('simulator'),
    );
    const baseline = startProcess(
      'baseline',
      join(DIST, 'bench', 'baseline-server.js'),
      { PORT: String(baselinePort) },
      join(LOGS, `${stamp}-baseline.log`),
    );
    await Promise.all([
      simulator.waitFor(/Twilio simulator listening/),
      baseline.waitFor(/baseline listening/),
    ]);

    log(`baseline: GET / on a bare Fastify, ${CONNECTIONS} connections, ${DURATION} s`);
    const base = await load({ url: `http://127.0.0.1:${baselinePort}/` }, { baseline });
    scenarios.baseline = {
      rps: base.rps,
      p50Ms: base.p50Ms,
      p99Ms: base.p99Ms,
      cpuPercent: base.cpuPercent,
    };
    await stopAndRecord(baseline);
    const ratio = (rps: number): number => round(rps / base.rps, 3);

    let api = await startApp('api', 'api', apiPort, simPort, redisPrefix);
    let nextSend = 0;
    const token = await senderToken(apiPort);

    if (wanted('statusCallbacks')) {
      log(`statusCallbacks: seeding ${STATUS_MESSAGES.toLocaleString('en-US')} accepted messages`);
      scenarios.statusCallbacks = await statusCallbacks(
        db,
        apiPort,
        'bench-status',
        { api },
        base.rps,
      );
    }
    if (wanted('send')) {
      log('send: POST /api/v1/whatsapp/send (template, distinct recipients) on ROLE=api');
      const send = await load(
        {
          url: `http://127.0.0.1:${apiPort}`,
          requests: sendRequests(token, 'bench-send', () => nextSend++),
        },
        { api },
      );
      scenarios.send = {
        rps: send.rps,
        p50Ms: send.p50Ms,
        p99Ms: send.p99Ms,
        ratioToBaseline: ratio(send.rps),
        non2xx: send.non2xx,
        errors: send.errors,
        requests: send.requests,
        cpuPercent: send.cpuPercent,
      };
    }
    await stopAndRecord(api);
    // The send scenario's messages have no worker; they must not compete with endToEnd's.
    await db.query(`DELETE FROM whatsapp_messages WHERE reference = 'bench-send'`);

    if (wanted('endToEnd')) {
      log(`endToEnd: ${E2E_MESSAGES.toLocaleString('en-US')} sends on ROLE=api + ROLE=worker`);
      const e2ePrefix = `${redisPrefix}e`;
      api = await startApp('api-e2e', 'api', apiPort, simPort, e2ePrefix);
      const worker = await startApp('worker-e2e', 'worker', workerPort, simPort, e2ePrefix);
      const e2e = await withCpu(
        {
          api: api.child.pid ?? 0,
          worker: worker.child.pid ?? 0,
          simulator: simulator.child.pid ?? 0,
          generator: 'self',
        },
        () => endToEnd(db, apiPort, token, nextSend + 1),
      );
      scenarios.endToEnd = { ...e2e.result, cpuPercent: e2e.cpu };

      log('deliveryMetrics: GET /api/v1/whatsapp/delivery-metrics (last 24 h), 4 connections');
      const metrics = summarize(
        await autocannon({
          url: `http://127.0.0.1:${apiPort}/api/v1/whatsapp/delivery-metrics`,
          connections: 4,
          amount: 200,
          headers: { ...PROXY_HEADERS, authorization: `Bearer ${token}` },
        }),
      );
      const counted = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM whatsapp_messages WHERE direction = 'outbound'`,
      );
      scenarios.deliveryMetrics = {
        p50Ms: metrics.p50Ms,
        p99Ms: metrics.p99Ms,
        rps: metrics.rps,
        non2xx: metrics.non2xx,
        requests: metrics.requests,
        messagesInWindow: Number(counted.rows[0].n),
      };
      await Promise.all([stopAndRecord(api), stopAndRecord(worker)]);
    }
    let firstIndex = nextSend + E2E_MESSAGES + 1;

    if (wanted('mps')) {
      log(`mps: ${(MPS * 10).toLocaleString('en-US')} sends with TWILIO_MPS=${MPS}`);
      await resetSimulator(simPort);
      const prefix = `${redisPrefix}m`;
      const capped = { TWILIO_MPS: String(MPS) };
      api = await startApp('api-mps', 'api', apiPort, simPort, prefix, capped);
      const worker = await startApp('worker-mps', 'worker', workerPort, simPort, prefix, capped);
      const run = await endToEnd(db, apiPort, token, firstIndex, MPS * 10, 'bench-mps');
      firstIndex += MPS * 10;
      const truth = await simulatorTruth(simPort);
      const creates = sendWindows(truth.messages.map((message) => Date.parse(message.createdAt)));
      // The limiter counts a job when BullMQ moves it to active: its events stream records
      // each move with Redis' own clock (the entry id), which is the limiter's clock too.
      const activations = sendWindows(await activeTimes(`${prefix}-bull:outbound:events`));
      scenarios.mps = {
        twilioMps: MPS,
        ...run,
        created: truth.messages.length,
        activated: activations.count,
        busiestLimiterWindow: activations.busiestLimiterWindow,
        busiestSlidingSecondOfActivations: activations.busiestSlidingSecond,
        busiestSlidingSecond: creates.busiestSlidingSecond,
        busiestLimiterWindowOfCreates: creates.busiestLimiterWindow,
        overCap: activations.busiestLimiterWindow > MPS,
      };
      await Promise.all([stopAndRecord(api), stopAndRecord(worker)]);
    }

    if (wanted('scaleOut')) {
      log('scaleOut: 2 api + 2 worker processes behind one round-robin port');
      await resetSimulator(simPort);
      const prefix = `${redisPrefix}s`;
      const [api1Port, api2Port, worker2Port] = await Promise.all([
        freePort(),
        freePort(),
        freePort(),
      ]);
      const apis = await Promise.all([
        startApp('api-1', 'api', api1Port, simPort, prefix),
        startApp('api-2', 'api', api2Port, simPort, prefix),
      ]);
      const workers = await Promise.all([
        startApp('worker-1', 'worker', workerPort, simPort, prefix),
        startApp('worker-2', 'worker', worker2Port, simPort, prefix),
      ]);
      // On the port the simulator delivers callbacks to, as a Service in front of two pods.
      const balancer = startProcess(
        'balancer',
        join(DIST, 'bench', 'balancer.js'),
        { PORT: String(apiPort), BALANCER_TARGETS: `${api1Port},${api2Port}` },
        join(LOGS, `${stamp}-balancer.log`),
      );
      await balancer.waitFor(/balancer listening/);
      const callbacks = await statusCallbacks(
        db,
        apiPort,
        'bench-status-scale',
        { 'api-1': apis[0], 'api-2': apis[1], balancer },
        base.rps,
      );
      const e2e = await withCpu(
        {
          'api-1': apis[0].child.pid ?? 0,
          'api-2': apis[1].child.pid ?? 0,
          'worker-1': workers[0].child.pid ?? 0,
          'worker-2': workers[1].child.pid ?? 0,
          balancer: balancer.child.pid ?? 0,
          simulator: simulator.child.pid ?? 0,
          generator: 'self',
        },
        () => endToEnd(db, apiPort, token, firstIndex, SCALE_MESSAGES, 'bench-scale'),
      );
      const truth = await simulatorTruth(simPort);
      const counts = truth.creates.map((entry) => entry.accepted);
      const notFinal = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM whatsapp_messages
          WHERE reference = 'bench-scale' AND status NOT IN ('delivered', 'read')`,
      );
      scenarios.scaleOut = {
        layout:
          "2 api + 2 worker processes; a round-robin TCP balancer process in front of the api processes (the generator and the simulator's callbacks go through it)",
        statusCallbacks: callbacks,
        endToEnd: { ...e2e.result, cpuPercent: e2e.cpu },
        truth: {
          mids: counts.length,
          createdOnce: counts.filter((n) => n === 1).length,
          createdTwiceOrMore: counts.filter((n) => n > 1).length,
          notFinal: Number(notFinal.rows[0].n),
        },
      };
      await Promise.all([
        ...apis.map((app) => stopAndRecord(app)),
        ...workers.map((app) => stopAndRecord(app)),
        stopAndRecord(balancer),
      ]);
    }

    await stopAndRecord(simulator);
    peakRss.generator = Math.round(vmHwmMb('self'));
    scenarios.memory = { peakRssMb: peakRss };
  } finally {
    await db.end();
    await cleanup();
  }

  const cpuList = cpus();
  const result = {
    date: started.toISOString(),
    settings: {
      durationSeconds: DURATION,
      connections: CONNECTIONS,
      statusMessages: STATUS_MESSAGES,
      e2eMessages: E2E_MESSAGES,
    },
    machine: {
      cpus: cpuList.length,
      model: cpuList[0]?.model ?? 'unknown',
      node: process.version,
      os: `${type()} ${release()}`,
    },
    scenarios,
  };
  const printed = table(scenarios);
  process.stdout.write(`\n${printed}\n\n`);
  writeFileSync(join(RESULTS, `${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(
    join(RESULTS, `${stamp}.md`),
    [
      `# npm run bench (${result.date})`,
      '',
      `${result.machine.cpus} × ${result.machine.model}, Node ${result.machine.node}, ${result.machine.os}; ` +
        `${CONNECTIONS} connections, ${DURATION} s a scenario, ${E2E_MESSAGES.toLocaleString('en-US')} end-to-end messages. ` +
        'The load generator, the app, PostgreSQL and Redis share the machine.',
      '',
      printed,
      '',
      `Peak RSS (MB): ${Object.entries(peakRss)
        .map(([name, mb]) => `${name} ${mb}`)
        .join(', ')}.`,
      '',
      '```json',
      JSON.stringify(scenarios, null, 2),
      '```',
      '',
    ].join('\n'),
  );
  log(`wrote bench/results/${stamp}.json and .md`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every process started`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.once('exit', () => {
  for (const child of runningProcesses()) child.child.kill('SIGKILL');
});

main().catch(async (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  await cleanup();
  process.exit(1);
});
