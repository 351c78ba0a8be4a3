// scaleOut: 2 api + 2 worker processes, a round-robin TCP balancer (balancer.ts) in front of the
// api processes on the port the generator and the simulator's callbacks use (what a Kubernetes
// Service does): status callbacks, then end-to-end sends, then what the simulator saw (was any
// message sent twice?) and how many messages are not final.
import { join } from 'node:path';
import { startApp, stopAndRecord } from '../lib/apps';
import type { BenchContext } from '../lib/context';
import { log } from '../lib/log';
import { freePort, startProcess, withCpu } from '../lib/processes';
import { DIST, LOGS, redisPrefix, SCALE_MESSAGES, stamp } from '../lib/settings';
import { resetSimulator, simulatorTruth } from '../lib/simulator';
import { endToEnd, type EndToEndResult } from './end-to-end';
import { statusCallbacks, type StatusCallbacksResult } from './status-callbacks';

export interface ScaleOutResult {
  layout: string;
  statusCallbacks: StatusCallbacksResult;
  endToEnd: EndToEndResult;
  truth: {
    /** Distinct `mid`s the simulator saw. */
    mids: number;
    /** Must equal `mids`. */
    createdOnce: number;
    /** Must be 0. */
    createdTwiceOrMore: number;
    /** Messages not delivered or read (must be 0). */
    notFinal: number;
  };
}

/** The scenario, recipients from `firstIndex` on. */
export async function runScaleOut(
  context: BenchContext,
  firstIndex: number,
): Promise<ScaleOutResult> {
  const { db, ports, simulator, token, baselineRps } = context;
  log('scaleOut: 2 api + 2 worker processes behind one round-robin port');
  await resetSimulator(ports.simulator);
  const prefix = `${redisPrefix}s`;
  const [api1Port, api2Port, worker2Port] = await Promise.all([freePort(), freePort(), freePort()]);
  const apis = await Promise.all([
    startApp('api-1', 'api', api1Port, ports.simulator, prefix),
    startApp('api-2', 'api', api2Port, ports.simulator, prefix),
  ]);
  const workers = await Promise.all([
    startApp('worker-1', 'worker', ports.worker, ports.simulator, prefix),
    startApp('worker-2', 'worker', worker2Port, ports.simulator, prefix),
  ]);
  // On the port the simulator delivers callbacks to, as a Service in front of two pods.
  const balancer = startProcess(
    'balancer',
    join(DIST, 'bench', 'balancer.js'),
    { PORT: String(ports.api), BALANCER_TARGETS: `${api1Port},${api2Port}` },
    join(LOGS, `${stamp}-balancer.log`),
  );
  await balancer.waitFor(/balancer listening/);
  const callbacks = await statusCallbacks(
    db,
    ports.api,
    'bench-status-scale',
    { 'api-1': apis[0], 'api-2': apis[1], balancer },
    baselineRps,
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
    () => endToEnd(db, ports.api, token, firstIndex, SCALE_MESSAGES, 'bench-scale'),
  );
  const truth = await simulatorTruth(ports.simulator);
  const counts = truth.creates.map((entry) => entry.accepted);
  const notFinal = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM whatsapp_messages
      WHERE reference = 'bench-scale' AND status NOT IN ('delivered', 'read')`,
  );
  const result: ScaleOutResult = {
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
  return result;
}
