// baseline: GET / on a bare Fastify hello-world (baseline-server.ts), in a process of its own:
// what this machine's HTTP stack does when the app does nothing.
import { join } from 'node:path';
import { stopAndRecord } from '../lib/apps';
import { load, type CpuPercent } from '../lib/load';
import { log } from '../lib/log';
import { startProcess, type BenchProcess } from '../lib/processes';
import { CONNECTIONS, DIST, DURATION, LOGS, stamp } from '../lib/settings';

export interface BaselineResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuPercent: CpuPercent;
}

/** Starts the baseline server and resolves once it listens. */
export async function startBaselineServer(port: number): Promise<BenchProcess> {
  const server = startProcess(
    'baseline',
    join(DIST, 'bench', 'baseline-server.js'),
    { PORT: String(port) },
    join(LOGS, `${stamp}-baseline.log`),
  );
  await server.waitFor(/baseline listening/);
  return server;
}

/** Loads the baseline server, then stops it. */
export async function runBaseline(server: BenchProcess, port: number): Promise<BaselineResult> {
  log(`baseline: GET / on a bare Fastify, ${CONNECTIONS} connections, ${DURATION} s`);
  const base = await load({ url: `http://127.0.0.1:${port}/` }, { baseline: server });
  await stopAndRecord(server);
  return {
    rps: base.rps,
    p50Ms: base.p50Ms,
    p99Ms: base.p99Ms,
    cpuPercent: base.cpuPercent,
  };
}
