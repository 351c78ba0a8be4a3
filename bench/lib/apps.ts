// The app's processes (built dist/src/main.js, NODE_ENV=production) as the bench starts them,
// and the peak memory of every process the bench stopped.
import { join } from 'node:path';
import { startProcess, type BenchProcess } from './processes';
import {
  CPU_PROF,
  dbUrl,
  DIST,
  FROM,
  LOGS,
  NODE_OPTIONS,
  PUBLIC_BASE_URL,
  REDIS_URL,
  secrets,
  stamp,
} from './settings';

export type Role = 'api' | 'worker' | 'all';

/** Peak RSS (MB) of every process stopped so far, by name: the `memory` scenario. */
export const peakRss: Record<string, number> = {};

function appEnv(
  role: Role,
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
    NODE_OPTIONS,
    ...extra,
  };
}

/** BENCH_CPU_PROF=1: a V8 CPU profile of the process (app or simulator), next to its log. */
export function cpuProfile(name: string): string[] {
  return CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${LOGS}`, `--cpu-prof-name=${stamp}-${name}.cpuprofile`]
    : [];
}

/** Starts one app process and resolves once it listens. */
export async function startApp(
  name: string,
  role: Role,
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

/** Stops a process the bench started, recording its peak RSS. */
export async function stopAndRecord(app: BenchProcess | undefined): Promise<void> {
  if (!app) return;
  peakRss[app.name] = Math.round(Math.max(peakRss[app.name] ?? 0, app.peakRssMb()));
  await app.stop();
}
