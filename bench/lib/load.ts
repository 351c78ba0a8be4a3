// One autocannon run and the figures every load scenario records.
import autocannon from 'autocannon';
import { withCpu, type BenchProcess } from './processes';
import { CONNECTIONS, DURATION } from './settings';

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** How busy each process was (percent of one core) and the machine (`machine`, of all cores). */
export type CpuPercent = Record<string, number>;

/** What a load scenario against the app records: the load, beside the baseline, and the CPU. */
export interface AppLoadResult extends LoadResult {
  ratioToBaseline: number;
  cpuPercent: CpuPercent;
}

export function summarize(result: autocannon.Result): LoadResult {
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
export async function load(
  options: autocannon.Options,
  processes: Record<string, BenchProcess>,
): Promise<LoadResult & { cpuPercent: CpuPercent }> {
  const pids: Record<string, number | 'self'> = { generator: 'self' };
  for (const [name, child] of Object.entries(processes)) pids[name] = child.child.pid ?? 0;
  const { result, cpu } = await withCpu(pids, () =>
    autocannon({ connections: CONNECTIONS, duration: DURATION, ...options }),
  );
  await settle();
  return { ...summarize(result), cpuPercent: cpu };
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
