// endToEnd: sends posted as fast as the connections go on ROLE=api + ROLE=worker, then the
// database polled until every accepted one is final (worker → simulator → signed callbacks →
// api). mps and scaleOut measure their runs the same way. deliveryMetrics follows on the same
// api process, over everything seeded and sent until then.
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import type { Client } from 'pg';
import { sendRequests } from '../lib/api-client';
import { startApp, stopAndRecord } from '../lib/apps';
import type { BenchContext } from '../lib/context';
import { round, type CpuPercent } from '../lib/load';
import { log } from '../lib/log';
import { withCpu } from '../lib/processes';
import { CONNECTIONS, E2E_MESSAGES, redisPrefix } from '../lib/settings';
import { deliveryMetrics, type DeliveryMetricsResult } from './delivery-metrics';

/** One end-to-end run: sends posted, then drained to a final status. */
export interface EndToEndRun {
  /** Sends accepted (2xx). */
  messages: number;
  delivered: number;
  failed: number;
  non2xx: number;
  /** The posting alone. */
  postSeconds: number;
  /** Delivered / (first post → last delivered). */
  messagesPerSec: number;
  /** Last post answered → last delivered. */
  drainSeconds: number;
  /**
   * Status callbacks the simulator gave up on during the run (not answered 2xx after the URL's
   * own retries), by reason; null when the simulator was not asked.
   */
  callbacksFailed: number | null;
  /** Statuses the reconciler wrote for the run's messages: 0 means final through callbacks alone. */
  reconciled: number;
  /**
   * Connections the kernel dropped during the run because an accept queue was full (the
   * machine's TcpExt ListenOverflows; any process), or null where it cannot be read.
   */
  listenOverflows: number | null;
  /** Not every accepted send was final by the deadline. */
  timedOut?: true;
  /** When timed out: the messages not final, by status. */
  notFinal?: Record<string, number>;
}

/** No message became final for this long: the run is stuck, stop waiting. */
const STALL_MS = Number(process.env.BENCH_STALL_SECONDS ?? 60) * 1000;

/** The scenarios that did not finish: `npm run bench` exits 1 when there is any. */
export const unfinished: string[] = [];

export type EndToEndResult = EndToEndRun & {
  cpuPercent: CpuPercent;
  /** The worker's whatsapp_send_paced_seconds_total by reason at the end of the run. */
  pacedSeconds?: Record<string, number>;
};

/** A worker's whatsapp_send_paced_seconds_total by reason, from its /metrics. */
async function pacedSeconds(workerPort: number): Promise<Record<string, number>> {
  const text = await fetch(`http://127.0.0.1:${workerPort}/metrics`)
    .then((response) => response.text())
    .catch(() => '');
  const paced: Record<string, number> = {};
  for (const match of text.matchAll(
    /^whatsapp_send_paced_seconds_total\{reason="(\w+)"\} ([\d.e+-]+)$/gm,
  )) {
    paced[match[1]] = round(Number(match[2]), 1);
  }
  return paced;
}

/**
 * Posts `count` sends at `apiPort` (recipients from `firstIndex` on) under `reference`, then
 * polls the database every 100 ms until each accepted one is delivered, read or failed.
 */
export async function endToEnd(
  db: Client,
  apiPort: number,
  token: string,
  firstIndex: number,
  count = E2E_MESSAGES,
  reference = 'bench-e2e',
  /** The simulator's port, for its stats when the run does not finish. */
  simPort?: number,
): Promise<EndToEndRun> {
  const statsBefore = simPort ? await simStats(simPort) : undefined;
  const overflowsBefore = listenOverflows();
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
  // Bounded twice: by the run's size, and by progress (no message final for STALL_MS).
  const deadline = postedAt + Math.max(120_000, count * 20);
  let done = 0;
  let failed = 0;
  let progressAt = Date.now();
  while (Date.now() < deadline && Date.now() - progressAt < STALL_MS) {
    const { rows } = await db.query<{ done: string; failed: string }>(
      `SELECT count(*) FILTER (WHERE status IN ('delivered', 'read')) AS done,
              count(*) FILTER (WHERE status IN ('failed', 'undelivered', 'canceled')) AS failed
         FROM whatsapp_messages WHERE reference = $1`,
      [reference],
    );
    if (Number(rows[0].done) + Number(rows[0].failed) > done + failed) progressAt = Date.now();
    done = Number(rows[0].done);
    failed = Number(rows[0].failed);
    if (done + failed >= accepted) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const end = Date.now();
  const finished = done + failed >= accepted;
  const statsAfter = simPort ? await simStats(simPort) : undefined;
  const callbacksFailed =
    statsBefore && statsAfter ? failedCallbacks(statsAfter) - failedCallbacks(statsBefore) : null;
  const { rows: reconciledRows } = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM message_status_logs l JOIN whatsapp_messages m ON m.id = l.message_id
      WHERE m.reference = $1 AND l.source = 'reconciler'`,
    [reference],
  );
  const reconciled = Number(reconciledRows[0].n);
  const overflowsAfter = listenOverflows();
  if (finished && (callbacksFailed ?? 0) + reconciled > 0) {
    log(
      `${reference}: every message final, but ${callbacksFailed ?? 0} status callbacks failed and ` +
        `${reconciled} statuses came from the reconciler; simulator ${JSON.stringify(statsAfter)}`,
    );
    unfinished.push(reference);
  }
  let notFinal: Record<string, number> | undefined;
  if (!finished) {
    const { rows } = await db.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM whatsapp_messages
        WHERE reference = $1 AND status NOT IN ('delivered', 'read', 'failed', 'undelivered', 'canceled')
        GROUP BY status ORDER BY status`,
      [reference],
    );
    notFinal = Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
    const stats = statsAfter ?? 'not asked';
    log(
      `${reference}: ${accepted - done - failed} of ${accepted} messages not final after ` +
        `${round((end - postedAt) / 1000, 1)} s (no progress for ${STALL_MS / 1000} s or over ` +
        `the bound); not final by status ${JSON.stringify(notFinal)}; simulator ${JSON.stringify(stats)}`,
    );
    unfinished.push(reference);
  }
  return {
    messages: accepted,
    delivered: done,
    failed,
    non2xx: posted.non2xx,
    postSeconds: round((postedAt - t0) / 1000, 2),
    messagesPerSec: Math.round(done / ((end - t0) / 1000)),
    drainSeconds: round((end - postedAt) / 1000, 2),
    callbacksFailed,
    reconciled,
    listenOverflows:
      overflowsBefore === null || overflowsAfter === null ? null : overflowsAfter - overflowsBefore,
    ...(finished ? {} : { timedOut: true as const, notFinal }),
  };
}

/** The machine's TcpExt ListenOverflows (/proc/net/netstat), or null off Linux. */
function listenOverflows(): number | null {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const header = lines.findIndex((line) => line.startsWith('TcpExt:'));
    const names = lines[header].split(/\s+/);
    const values = lines[header + 1].split(/\s+/);
    const value = Number(values[names.indexOf('ListenOverflows')]);
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

/** The simulator's counters (GET /__sim/stats), or why they could not be read. */
type SimStats = { callbacks?: { failed?: Record<string, number> } } | { unavailable: string };

async function simStats(simPort: number): Promise<SimStats> {
  return fetch(`http://127.0.0.1:${simPort}/__sim/stats`)
    .then((response) => response.json() as Promise<SimStats>)
    .catch((error: Error) => ({ unavailable: error.message }));
}

function failedCallbacks(stats: SimStats): number {
  if ('unavailable' in stats) return 0;
  return Object.values(stats.callbacks?.failed ?? {}).reduce((sum, n) => sum + n, 0);
}

/**
 * The scenario, on processes of its own (api-e2e, worker-e2e), recipients from `firstIndex` on;
 * then deliveryMetrics on the same api before they stop.
 */
export async function runEndToEnd(
  context: BenchContext,
  firstIndex: number,
): Promise<{ endToEnd: EndToEndResult; deliveryMetrics: DeliveryMetricsResult }> {
  const { db, ports, simulator, token } = context;
  log(`endToEnd: ${E2E_MESSAGES.toLocaleString('en-US')} sends on ROLE=api + ROLE=worker`);
  const e2ePrefix = `${redisPrefix}e`;
  const api = await startApp('api-e2e', 'api', ports.api, ports.simulator, e2ePrefix);
  const worker = await startApp('worker-e2e', 'worker', ports.worker, ports.simulator, e2ePrefix);
  const e2e = await withCpu(
    {
      api: api.child.pid ?? 0,
      worker: worker.child.pid ?? 0,
      simulator: simulator.child.pid ?? 0,
      generator: 'self',
    },
    () => endToEnd(db, ports.api, token, firstIndex, E2E_MESSAGES, 'bench-e2e', ports.simulator),
  );
  const endToEndResult: EndToEndResult = {
    ...e2e.result,
    cpuPercent: e2e.cpu,
    pacedSeconds: await pacedSeconds(ports.worker),
  };
  const metrics = await deliveryMetrics(db, ports.api, token);
  await Promise.all([stopAndRecord(api), stopAndRecord(worker)]);
  return { endToEnd: endToEndResult, deliveryMetrics: metrics };
}
