// The results of `npm run bench`: every scenario's figures, the printed table, and the .md file
// bench/results/ keeps beside the .json.
import type { BaselineResult } from '../scenarios/baseline';
import type { DeliveryMetricsResult } from '../scenarios/delivery-metrics';
import type { EndToEndResult } from '../scenarios/end-to-end';
import type { EndToEndEventsResult } from '../scenarios/end-to-end-events';
import type { MemoryResult } from '../scenarios/memory';
import type { MpsResult } from '../scenarios/mps';
import type { ScaleOutResult } from '../scenarios/scale-out';
import type { SendResult } from '../scenarios/send';
import type { StatusCallbacksResult } from '../scenarios/status-callbacks';

/** The `scenarios` of the results, in the order they run (and the JSON lists them). */
export interface Scenarios {
  baseline?: BaselineResult;
  statusCallbacks?: StatusCallbacksResult;
  send?: SendResult;
  endToEnd?: EndToEndResult;
  deliveryMetrics?: DeliveryMetricsResult;
  endToEndEvents?: EndToEndEventsResult;
  mps?: MpsResult;
  scaleOut?: ScaleOutResult;
  memory?: MemoryResult;
}

/** bench/results/<timestamp>.json. */
export interface BenchResults {
  date: string;
  settings: {
    durationSeconds: number;
    connections: number;
    statusMessages: number;
    e2eMessages: number;
  };
  machine: { cpus: number; model: string; node: string; os: string };
  scenarios: Scenarios;
}

interface TableFigures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  ratioToBaseline?: number;
}

/** The Markdown table the run prints: one row per load scenario, then the message rates. */
export function table(scenarios: Scenarios): string {
  const fmt = (value: unknown): string =>
    typeof value === 'number' ? value.toLocaleString('en-US') : value === undefined ? '' : '–';
  const rows: string[][] = [['scenario', 'rps', 'p50 ms', 'p99 ms', 'ratio to baseline']];
  const loads: [string, TableFigures | undefined][] = [
    ['baseline', scenarios.baseline && { ...scenarios.baseline, ratioToBaseline: 1 }],
    ['statusCallbacks', scenarios.statusCallbacks],
    ['send', scenarios.send],
    ['deliveryMetrics', scenarios.deliveryMetrics],
  ];
  for (const [name, s] of loads) {
    if (!s) {
      rows.push([name, 'skipped', '', '', '']);
      continue;
    }
    rows.push([name, fmt(s.rps), fmt(s.p50Ms), fmt(s.p99Ms), fmt(s.ratioToBaseline)]);
  }
  const e2e = scenarios.endToEnd;
  if (e2e) {
    rows.push([
      `endToEnd (${fmt(e2e.messages)} msgs, drain ${e2e.drainSeconds} s; failed callbacks ${e2e.callbacksFailed ?? '?'}, reconciled ${e2e.reconciled}; listen overflows ${e2e.listenOverflows ?? '?'}; paced ${JSON.stringify(e2e.pacedSeconds ?? {})} s)`,
      `${fmt(e2e.messagesPerSec)} msg/s`,
      '',
      '',
      '',
    ]);
  }
  const events = scenarios.endToEndEvents;
  if (events) {
    rows.push([
      `endToEndEvents (${fmt(events.messages)} msgs, drain ${events.drainSeconds} s)`,
      `${fmt(events.messagesPerSec)} msg/s`,
      '',
      '',
      '',
    ]);
    rows.push([
      `endToEndEvents: events delivered / written (${events.eventsTimedOut ? 'NOT ALL' : 'all'}; ${fmt(events.eventsReceived)} POSTs, drain ${events.eventsDrainSeconds} s after the last message)`,
      `${fmt(events.eventsDelivered)} / ${fmt(events.eventsExpected)}, ${fmt(events.eventsPerSec)} events/s`,
      '',
      '',
      '',
    ]);
  }
  const mps = scenarios.mps;
  if (mps) {
    rows.push([
      `mps (TWILIO_MPS=${mps.twilioMps}): busiest sliding second of creates`,
      `${mps.busiestSlidingSecond}${mps.overCap ? ' (over the cap)' : ''}`,
      '',
      '',
      '',
    ]);
  }
  const scale = scenarios.scaleOut;
  if (scale) {
    const cb = scale.statusCallbacks;
    rows.push([
      'scaleOut statusCallbacks (2 api)',
      fmt(cb.rps),
      fmt(cb.p50Ms),
      fmt(cb.p99Ms),
      fmt(cb.ratioToBaseline),
    ]);
    rows.push([
      `scaleOut endToEnd (${fmt(scale.endToEnd.messages)} msgs; sent twice ${scale.truth.createdTwiceOrMore}, not final ${scale.truth.notFinal})`,
      `${fmt(scale.endToEnd.messagesPerSec)} msg/s`,
      '',
      '',
      '',
    ]);
  }
  return [
    `| ${rows[0].join(' | ')} |`,
    `|${rows[0].map(() => '---').join('|')}|`,
    ...rows.slice(1).map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

/** bench/results/<timestamp>.md: the machine and settings, the table, peak RSS, the JSON. */
export function markdown(
  results: BenchResults,
  printed: string,
  peakRss: Record<string, number>,
): string {
  const { machine, settings } = results;
  return [
    `# npm run bench (${results.date})`,
    '',
    `${machine.cpus} × ${machine.model}, Node ${machine.node}, ${machine.os}; ` +
      `${settings.connections} connections, ${settings.durationSeconds} s a scenario, ${settings.e2eMessages.toLocaleString('en-US')} end-to-end messages. ` +
      'The load generator, the app, PostgreSQL and Redis share the machine.',
    '',
    printed,
    '',
    `Peak RSS (MB): ${Object.entries(peakRss)
      .map(([name, mb]) => `${name} ${mb}`)
      .join(', ')}.`,
    '',
    '```json',
    JSON.stringify(results.scenarios, null, 2),
    '```',
    '',
  ].join('\n');
}
