/**
 * What an attempt's result does to a delivery and its subscription: pure, table-tested
 * (delivery-moves.spec.ts). The dispatcher locks the rows, asks these, and writes the answers.
 */

/** What one HTTP attempt came back with. */
export type AttemptResult =
  | { kind: 'response'; status: number; retryAfterSeconds: number | null }
  | { kind: 'error'; reason: string }
  /** Nothing to send (the event was purged): the delivery fails at once. */
  | { kind: 'unsendable'; reason: string };

export interface RetryPolicy {
  /** Delay before retry n (attempt n+1), ms; index 0 follows the first attempt. */
  scheduleMs: readonly number[];
  /** ± this share of each delay, at random (spreads a burst of failures). */
  jitter: number;
  /** The longest Retry-After honoured, ms. */
  maxRetryAfterMs: number;
  /** A subscription failing this long without a success is disabled, ms. */
  disableAfterMs: number;
}

export type DeliveryState = 'pending' | 'in_flight' | 'succeeded' | 'failed';

export interface AttemptDecision {
  /** The delivery's state after this attempt. */
  state: DeliveryState;
  /** When it may be tried again (state pending). */
  nextAttemptAt: Date | null;
  /** The attempt log's verdict. */
  result: 'succeeded' | 'retry' | 'failed' | 'gone';
  /** The subscription must be disabled, and why. */
  disable: 'gone' | 'failing' | null;
  /** The subscription's `failing_since` after this attempt. */
  failingSince: Date | null;
}

const THROTTLED = new Set([429, 502, 503, 504]);

/**
 * One attempt's verdict. 2xx: succeeded. 410: the receiver is gone — the subscription is
 * disabled and the delivery waits (re-enabling resumes it). 429/502/503/504 with Retry-After:
 * that delay (at most the cap) when it is longer than the schedule's. Anything else (another status, a redirect, a network error or timeout):
 * the schedule's next delay with jitter, and after its last step the delivery failed for good
 * (its lane moves on). A subscription with no success for `disableAfterMs` is disabled.
 */
export function decideAttempt(
  attempt: { number: number; result: AttemptResult; now: Date },
  subscription: { failingSince: Date | null },
  policy: RetryPolicy,
  random: () => number = Math.random,
): AttemptDecision {
  const { result, now } = attempt;
  if (result.kind === 'response' && result.status >= 200 && result.status < 300) {
    return {
      state: 'succeeded',
      nextAttemptAt: null,
      result: 'succeeded',
      disable: null,
      failingSince: null,
    };
  }
  if (result.kind === 'unsendable') {
    return {
      state: 'failed',
      nextAttemptAt: null,
      result: 'failed',
      disable: null,
      failingSince: subscription.failingSince,
    };
  }
  const failingSince = subscription.failingSince ?? now;
  if (result.kind === 'response' && result.status === 410) {
    return { state: 'pending', nextAttemptAt: now, result: 'gone', disable: 'gone', failingSince };
  }
  const failingTooLong = now.getTime() - failingSince.getTime() >= policy.disableAfterMs;
  const disable = failingTooLong ? ('failing' as const) : null;
  const stepMs = policy.scheduleMs[attempt.number - 1];
  if (stepMs === undefined) {
    return { state: 'failed', nextAttemptAt: null, result: 'failed', disable, failingSince };
  }
  const retryAfterMs =
    result.kind === 'response' && THROTTLED.has(result.status) && result.retryAfterSeconds !== null
      ? Math.min(result.retryAfterSeconds * 1000, policy.maxRetryAfterMs)
      : 0;
  // Never sooner than the schedule: a receiver asking for a second would otherwise spend every
  // attempt in a few seconds and lose the event.
  const delayMs = Math.max(retryAfterMs, jittered(stepMs, policy.jitter, random));
  return {
    state: 'pending',
    nextAttemptAt: new Date(now.getTime() + delayMs),
    result: 'retry',
    disable,
    failingSince,
  };
}

function jittered(ms: number, jitter: number, random: () => number): number {
  return Math.max(0, Math.round(ms * (1 + jitter * (2 * random() - 1))));
}

/**
 * Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or
 * unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed);
  // IMF-fixdate, the form senders must use (`Sun, 06 Nov 1994 08:49:37 GMT`).
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}
