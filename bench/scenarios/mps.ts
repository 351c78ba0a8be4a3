// mps: BENCH_MPS × 10 sends through the send-rate limiter (TWILIO_MPS=BENCH_MPS), and the most
// sends it let through in one second, from BullMQ's events stream and from the simulator.
import { startApp, stopAndRecord } from '../lib/apps';
import type { BenchContext } from '../lib/context';
import { log } from '../lib/log';
import { activeTimes } from '../lib/redis';
import { MPS, redisPrefix } from '../lib/settings';
import { resetSimulator, simulatorTruth } from '../lib/simulator';
import { endToEnd, type EndToEndRun } from './end-to-end';

/** The end-to-end run's figures, with what the limiter and the simulator saw. */
export interface MpsResult extends EndToEndRun {
  twilioMps: number;
  /** Messages the simulator created. */
  created: number;
  /** Jobs BullMQ moved to active. */
  activated: number;
  /** The most jobs moved to active in one limiter window. */
  busiestLimiterWindow: number;
  busiestSlidingSecondOfActivations: number;
  /** The most creates the simulator saw in any sliding second. */
  busiestSlidingSecond: number;
  busiestLimiterWindowOfCreates: number;
  /** A limiter window went over the cap. */
  overCap: boolean;
}

/** The sends this scenario posts: its recipients' indices. */
export const MPS_MESSAGES = MPS * 10;

/**
 * The most events in one second: in the limiter's own windows (BullMQ's limiter opens a
 * window at the first job after the previous one ended) and in any sliding second.
 */
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

/** The scenario, on processes of its own (api-mps, worker-mps), recipients from `firstIndex` on. */
export async function runMps(context: BenchContext, firstIndex: number): Promise<MpsResult> {
  const { db, ports, token } = context;
  log(`mps: ${MPS_MESSAGES.toLocaleString('en-US')} sends with TWILIO_MPS=${MPS}`);
  await resetSimulator(ports.simulator);
  const prefix = `${redisPrefix}m`;
  const capped = { TWILIO_MPS: String(MPS) };
  const api = await startApp('api-mps', 'api', ports.api, ports.simulator, prefix, capped);
  const worker = await startApp(
    'worker-mps',
    'worker',
    ports.worker,
    ports.simulator,
    prefix,
    capped,
  );
  const run = await endToEnd(db, ports.api, token, firstIndex, MPS_MESSAGES, 'bench-mps');
  const truth = await simulatorTruth(ports.simulator);
  const creates = sendWindows(truth.messages.map((message) => Date.parse(message.createdAt)));
  // The limiter counts a job when BullMQ moves it to active: its events stream records
  // each move with Redis' own clock (the entry id), which is the limiter's clock too.
  const activations = sendWindows(await activeTimes(`${prefix}-bull:outbound:events`));
  const result: MpsResult = {
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
  return result;
}
