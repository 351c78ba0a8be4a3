// What `npm run bench` reads from the environment (every BENCH_* variable; bench/README.md
// describes them), the fixed values every scenario shares, and what identifies this run: its
// database, its Redis prefix, its file names and its secrets.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

// Compiled to dist/bench/lib/.
export const ROOT = join(__dirname, '..', '..', '..');
export const DIST = join(ROOT, 'dist');
export const RESULTS = join(ROOT, 'bench', 'results');
export const LOGS = join(RESULTS, 'logs');

export const DURATION = Number(process.env.BENCH_DURATION ?? 12);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
export const E2E_MESSAGES = Number(process.env.BENCH_E2E_MESSAGES ?? 20_000);
/** The MPS scenario's cap (TWILIO_MPS) and messages (10 s worth). */
export const MPS = Number(process.env.BENCH_MPS ?? 80);
/** scaleOut: sends through 2 api + 2 worker processes. */
export const SCALE_MESSAGES = Number(process.env.BENCH_SCALE_MESSAGES ?? 5_000);
// Enough distinct messages that the callbacks never wrap around (wrapping would test the replay
// guard instead); raise it if the result says `wrapped`.
export const STATUS_MESSAGES = Number(
  process.env.BENCH_STATUS_MESSAGES ?? Math.max(20_000, DURATION * 6_000),
);
export const ADMIN_URL =
  process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** BENCH_SCENARIOS=statusCallbacks,send runs only those (and the baseline); default: all. */
const ONLY = process.env.BENCH_SCENARIOS?.split(',').map((name) => name.trim());
export const wanted = (name: string): boolean => ONLY === undefined || ONLY.includes(name);
/** NODE_OPTIONS of the app processes: what the image gives Node (its Dockerfile ENV). */
export const NODE_OPTIONS = process.env.BENCH_NODE_OPTIONS ?? '--max-old-space-size=160';
/** BENCH_CPU_PROF=1: a V8 CPU profile of every app process and the simulator. */
export const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
/** BENCH_KEEP=1 keeps the run's database and Redis keys. */
export const KEEP = process.env.BENCH_KEEP === '1';

export const PUBLIC_BASE_URL = 'https://bench.example.com';
export const FROM = 'whatsapp:+14155238886';
export const CONTENT_SID = `HX${'b'.repeat(32)}`;

export const started = new Date();
/** In every file name of the run (results, logs, CPU profiles). */
export const stamp = started.toISOString().replace(/[:.]/g, '-');
export const dbName = `wa_bench_${started.getTime()}`;
export const dbUrl = (() => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  return url.toString();
})();
// Every Redis key of the run starts with it (each scenario's processes add a letter): deleted
// at the end.
export const redisPrefix = `wabench${started.getTime()}`;
const secret = (bytes: number): string => randomBytes(bytes).toString('hex');
// Bench-only secrets, fresh every run: production refuses the development defaults.
export const secrets = {
  accountSid: `AC${secret(16)}`,
  authToken: secret(16),
  jwtSecret: secret(32),
  adminEmail: 'bench-admin@bench.example.com',
  adminPassword: secret(12),
  senderEmail: 'bench-sender@bench.example.com',
  senderPassword: secret(12),
};
