// endToEnd: sends posted as fast as the connections go on ROLE=api + ROLE=worker, then the
// database polled until every accepted one is final (worker → simulator → signed callbacks →
// api). mps and scaleOut measure their runs the same way. deliveryMetrics follows on the same
// api process, over everything seeded and sent until then.
import autocannon from 'autocannon';
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
  /** Not every accepted send was final by the deadline. */
  timedOut?: true;
}

export type EndToEndResult = EndToEndRun & { cpuPercent: CpuPercent };

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
): Promise<EndToEndRun> {
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
    ...(finished ? {} : { timedOut: true as const }),
  };
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
    () => endToEnd(db, ports.api, token, firstIndex),
  );
  const endToEndResult: EndToEndResult = { ...e2e.result, cpuPercent: e2e.cpu };
  const metrics = await deliveryMetrics(db, ports.api, token);
  await Promise.all([stopAndRecord(api), stopAndRecord(worker)]);
  return { endToEnd: endToEndResult, deliveryMetrics: metrics };
}
