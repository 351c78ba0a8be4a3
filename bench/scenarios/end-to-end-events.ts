// endToEndEvents: endToEnd with one events subscription whose receiver runs in its own process:
// the same sends, then every event the run wrote delivered to the receiver. Beside endToEnd in
// the same run, the difference is what the events cost the pipeline.
import { join } from 'node:path';
import { adminToken, createSubscription } from '../lib/api-client';
import { startApp, stopAndRecord } from '../lib/apps';
import type { BenchContext } from '../lib/context';
import { round, type CpuPercent } from '../lib/load';
import { log } from '../lib/log';
import { freePort, startProcess, withCpu } from '../lib/processes';
import { DIST, E2E_MESSAGES, LOGS, redisPrefix, stamp } from '../lib/settings';
import { endToEnd, unfinished, type EndToEndRun } from './end-to-end';

const REFERENCE = 'bench-e2e-events';
/** After the last message is final, how long the events may take to arrive at most. */
const EVENTS_DEADLINE_MS = 120_000;

export interface EndToEndEventsResult extends EndToEndRun {
  cpuPercent: CpuPercent;
  /** Events the run's messages wrote (the log), and what the receiver got (distinct ids). */
  eventsExpected: number;
  eventsDelivered: number;
  /** POSTs the receiver answered, repeats included. */
  eventsReceived: number;
  /** Delivered events / (first post → last event delivered). */
  eventsPerSec: number;
  /** Last message final → last event delivered. */
  eventsDrainSeconds: number;
  eventsTimedOut?: true;
}

export async function runEndToEndEvents(
  context: BenchContext,
  firstIndex: number,
): Promise<EndToEndEventsResult> {
  const { db, ports, simulator, token } = context;
  log(`endToEndEvents: ${E2E_MESSAGES.toLocaleString('en-US')} sends with one events subscription`);
  const receiverPort = await freePort();
  const receiver = startProcess(
    'event-receiver',
    join(DIST, 'bench', 'event-receiver-server.js'),
    { RECEIVER_PORT: String(receiverPort) },
    join(LOGS, `${stamp}-event-receiver.log`),
  );
  await receiver.waitFor(/event receiver listening/);
  const prefix = `${redisPrefix}v`;
  // The receiver is on 127.0.0.1 over http: production refuses both unless allowed.
  const env = { EVENTS_ALLOW_PRIVATE: 'on' };
  const api = await startApp('api-events', 'api', ports.api, ports.simulator, prefix, env);
  const worker = await startApp(
    'worker-events',
    'worker',
    ports.worker,
    ports.simulator,
    prefix,
    env,
  );
  await createSubscription(ports.api, await adminToken(ports.api), {
    url: `http://127.0.0.1:${receiverPort}/hooks`,
    events: ['message.status', 'message.inbound'],
  });
  const t0 = Date.now();
  const run = await withCpu(
    {
      api: api.child.pid ?? 0,
      worker: worker.child.pid ?? 0,
      simulator: simulator.child.pid ?? 0,
      receiver: receiver.child.pid ?? 0,
      generator: 'self',
    },
    async () => {
      const messages = await endToEnd(
        db,
        ports.api,
        token,
        firstIndex,
        E2E_MESSAGES,
        REFERENCE,
        ports.simulator,
      );
      const finalAt = Date.now();
      // The events keep coming after the messages are final (a `read` after `delivered`): count
      // them anew on every poll, and stop once the receiver has them all and the count held.
      const written = async (): Promise<number> => {
        const { rows } = await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM events e JOIN whatsapp_messages m ON m.id = e.message_id
            WHERE m.reference = $1`,
          [REFERENCE],
        );
        return Number(rows[0].n);
      };
      const deadline = finalAt + EVENTS_DEADLINE_MS;
      let counts = { received: 0, unique: 0 };
      let expected = await written();
      let previous = -1;
      while (Date.now() < deadline) {
        counts = (await (
          await fetch(`http://127.0.0.1:${receiverPort}/count`)
        ).json()) as typeof counts;
        if (counts.unique >= expected && expected === previous) break;
        previous = expected;
        await new Promise((resolve) => setTimeout(resolve, 250));
        expected = await written();
      }
      return { messages, finalAt, expected, counts, end: Date.now() };
    },
  );
  const { messages, finalAt, expected, counts, end } = run.result;
  const timedOut = counts.unique < expected;
  if (timedOut) {
    unfinished.push('endToEndEvents');
    const { rows } = await db.query<{ state: string; n: string }>(
      'SELECT state, count(*) AS n FROM event_deliveries GROUP BY state ORDER BY state',
    );
    log(
      `endToEndEvents: ${expected - counts.unique} of ${expected} events not delivered after ` +
        `${EVENTS_DEADLINE_MS / 1000} s; deliveries by state: ${JSON.stringify(rows)}`,
    );
  }
  await Promise.all([stopAndRecord(api), stopAndRecord(worker), stopAndRecord(receiver)]);
  return {
    ...messages,
    cpuPercent: run.cpu,
    eventsExpected: expected,
    eventsDelivered: counts.unique,
    eventsReceived: counts.received,
    eventsPerSec: Math.round(counts.unique / ((end - t0) / 1000)),
    eventsDrainSeconds: round((end - finalAt) / 1000, 2),
    ...(timedOut ? { eventsTimedOut: true as const } : {}),
  };
}
