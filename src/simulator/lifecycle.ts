import type { SimConfig } from './sim-config';

export type FinalPath = 'success' | 'failed' | 'undelivered';

/** One status change of a simulated message, and how its callback(s) go out. */
export interface PlannedEvent {
  status: 'sent' | 'delivered' | 'read' | 'failed' | 'undelivered';
  errorCode: number | null;
  /** When the status becomes true at Twilio (ms after create). */
  atMs: number;
  /** When each copy of its callback is sent (empty = dropped; two = duplicated). */
  callbackAtMs: number[];
}

// Carrier delivery receipts: the message was sent, then reported undelivered.
const UNDELIVERED_CODES = new Set([30003, 30004, 30005, 30006, 30007, 30008]);

/**
 * Plans a message's life after Twilio accepted it (pure; `random` is injectable for tests).
 * Twilio sends no callback for the initial status, so the plan starts at `sent` (or `failed`).
 * The truth advances in order; only callbacks are dropped, duplicated or reordered.
 */
export function planLifecycle(
  config: SimConfig,
  random: () => number = Math.random,
): PlannedEvent[] {
  const failing = random() < config.failRate;
  const code = config.failCode;
  type Step = [PlannedEvent['status'], number | null];
  const success: Step[] = [
    ['sent', null],
    ['delivered', null],
  ];
  if (config.read) success.push(['read', null]);
  const steps: Step[] = !failing
    ? success
    : UNDELIVERED_CODES.has(code)
      ? [
          ['sent', null],
          ['undelivered', code],
        ]
      : [['failed', code]];
  const { min, max } = config.callbackDelayMs;
  let at = 0;
  const events: PlannedEvent[] = steps.map(([status, errorCode]) => {
    at += Math.round(min + random() * (max - min));
    return { status, errorCode, atMs: at, callbackAtMs: [at] };
  });
  if (events.length > 1 && random() < config.reorderRate) {
    // Callbacks leave in reverse order: the last status is reported first.
    const times = events.map((event) => event.atMs).reverse();
    events.forEach((event, index) => (event.callbackAtMs = [times[index]]));
  }
  for (const event of events) {
    if (random() < config.dropRate) event.callbackAtMs = [];
    else if (random() < config.duplicateRate) {
      event.callbackAtMs = [
        event.callbackAtMs[0],
        event.callbackAtMs[0] + 1 + Math.round(random() * 50),
      ];
    }
  }
  return events;
}
