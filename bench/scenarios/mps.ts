// mps: BENCH_MPS × 10 sends through the send budget (TWILIO_MPS=BENCH_MPS), and the most creates
// the simulator saw in any sliding second.
import { startApp, stopAndRecord } from '../lib/apps';
import type { BenchContext } from '../lib/context';
import { log } from '../lib/log';
import { MPS, redisPrefix } from '../lib/settings';
import { resetSimulator, simulatorTruth } from '../lib/simulator';
import { endToEnd, type EndToEndRun } from './end-to-end';

/** The end-to-end run's figures, with what the simulator saw. */
export interface MpsResult extends EndToEndRun {
  twilioMps: number;
  /** Messages the simulator created. */
  created: number;
  /** The most creates the simulator saw in any sliding second. */
  busiestSlidingSecond: number;
  /** Some sliding second held more creates than TWILIO_MPS. */
  overCap: boolean;
}

/** The sends this scenario posts: its recipients' indices. */
export const MPS_MESSAGES = MPS * 10;

/** The most events in any sliding second. */
function busiestSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let busiest = 0;
  let from = 0;
  for (const [to, time] of sorted.entries()) {
    while (sorted[from] <= time - 1000) from += 1;
    busiest = Math.max(busiest, to - from + 1);
  }
  return busiest;
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
  // The simulator stamps each create as it arrives: the rate Twilio would see.
  const busiest = busiestSecond(truth.messages.map((message) => Date.parse(message.createdAt)));
  const result: MpsResult = {
    twilioMps: MPS,
    ...run,
    created: truth.messages.length,
    busiestSlidingSecond: busiest,
    overCap: busiest > MPS,
  };
  await Promise.all([stopAndRecord(api), stopAndRecord(worker)]);
  return result;
}
