import { Counter } from 'prom-client';
import type { AppConfig } from '../../../config/app-config';
import type { EventLogReader } from '../../delivery/queries/event-log.reader';
import type { DeliveriesRepository, ServedSubscription } from './deliveries.repository';
import { EventDispatcher } from './event-dispatcher.service';

// A round's choices, with the repository (the database adapter) replaced: which subscriptions it
// fans out and claims, and that one failing does not stop the others.

const config = {
  eventsAllowPrivate: true,
  events: {
    maxInFlight: 16,
    retryScheduleMs: [50],
    disableAfterMs: 86_400_000,
    maxRetryAfterMs: 3_600_000,
    timeoutMs: 10_000,
    pollMs: 200,
    secretOverlapMs: 86_400_000,
  },
} as AppConfig;

function dispatcherWith(subscriptions: ServedSubscription[], failing: Set<string>) {
  const calls: string[] = [];
  const deliveries = {
    subscriptions: () => Promise.resolve(subscriptions),
    fanOut: (id: string) => {
      calls.push(`fanOut ${id}`);
      return failing.has(id) ? Promise.reject(new Error('statement timeout')) : Promise.resolve(0);
    },
    claim: (id: string) => {
      calls.push(`claim ${id}`);
      return Promise.resolve([]);
    },
  } as unknown as DeliveriesRepository;
  const counter = (name: string, label: string) =>
    new Counter({ name, help: name, labelNames: [label], registers: [] });
  const dispatcher = new EventDispatcher(
    deliveries,
    {} as EventLogReader,
    config,
    counter('r', 'result'),
    counter('d', 'reason'),
    null,
  );
  return { dispatcher, calls };
}

const served = (id: string, overrides: Partial<ServedSubscription> = {}): ServedSubscription => ({
  id,
  disabled: false,
  hasEvents: false,
  hasDue: false,
  ...overrides,
});

describe('EventDispatcher rounds', () => {
  it('should lock nothing for a subscription with no events to fan out and nothing due', async () => {
    const { dispatcher, calls } = dispatcherWith([served('idle')], new Set());
    await dispatcher.runRound();
    expect(calls).toEqual([]);
  });

  it('should fan out only what has events, claim only what has work, never for a disabled one', async () => {
    const { dispatcher, calls } = dispatcherWith(
      [
        served('events', { hasEvents: true }),
        served('due', { hasDue: true }),
        served('disabled', { disabled: true, hasEvents: true, hasDue: true }),
      ],
      new Set(),
    );
    await dispatcher.runRound();
    expect(calls).toEqual(['fanOut events', 'claim events', 'claim due', 'fanOut disabled']);
  });

  it('should go on to the next subscription when one fails', async () => {
    const { dispatcher, calls } = dispatcherWith(
      [served('broken', { hasEvents: true }), served('fine', { hasDue: true })],
      new Set(['broken']),
    );
    await dispatcher.runRound();
    expect(calls).toEqual(['fanOut broken', 'claim fine']);
  });
});
