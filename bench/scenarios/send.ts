// send: POST /api/v1/whatsapp/send (a template, each to a recipient of its own) on ROLE=api with
// no worker: the API's part only (validate, commit the outbox row, queue the job).
import { sendRequests } from '../lib/api-client';
import type { BenchContext } from '../lib/context';
import { load, round, type AppLoadResult } from '../lib/load';
import { log } from '../lib/log';
import type { BenchProcess } from '../lib/processes';

export type SendResult = AppLoadResult;

/** The messages this scenario leaves behind (no worker sends them): deleted after it. */
export const SEND_REFERENCE = 'bench-send';

/** The scenario, on the ROLE=api process `api`; each request's recipient from `nextIndex`. */
export async function runSend(
  context: BenchContext,
  api: BenchProcess,
  nextIndex: () => number,
): Promise<SendResult> {
  log('send: POST /api/v1/whatsapp/send (template, distinct recipients) on ROLE=api');
  const send = await load(
    {
      url: `http://127.0.0.1:${context.ports.api}`,
      requests: sendRequests(context.token, SEND_REFERENCE, nextIndex),
    },
    { api },
  );
  return {
    rps: send.rps,
    p50Ms: send.p50Ms,
    p99Ms: send.p99Ms,
    ratioToBaseline: round(send.rps / context.baselineRps, 3),
    non2xx: send.non2xx,
    errors: send.errors,
    requests: send.requests,
    cpuPercent: send.cpuPercent,
  };
}
