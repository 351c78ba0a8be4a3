import {
  decideAttempt,
  parseRetryAfter,
  type AttemptResult,
  type RetryPolicy,
} from './delivery-moves';

const POLICY: RetryPolicy = {
  scheduleMs: [5_000, 300_000, 1_800_000],
  jitter: 0.1,
  maxRetryAfterMs: 3_600_000,
  disableAfterMs: 86_400_000,
};
const NOW = new Date('2026-01-01T12:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);
const response = (status: number, retryAfterSeconds: number | null = null): AttemptResult => ({
  kind: 'response',
  status,
  retryAfterSeconds,
});
const MIDDLE = () => 0.5; // no jitter

describe('decideAttempt', () => {
  it.each([
    // [what, attempt, result, state, next attempt after (ms), verdict]
    ['200 on the first attempt', 1, response(200), 'succeeded', null, 'succeeded'],
    ['204 on a later attempt', 3, response(204), 'succeeded', null, 'succeeded'],
    ['500: the first retry', 1, response(500), 'pending', 5_000, 'retry'],
    ['500: the second retry', 2, response(500), 'pending', 300_000, 'retry'],
    ['500 after the last retry', 4, response(500), 'failed', null, 'failed'],
    ['a redirect is a failure', 1, response(301), 'pending', 5_000, 'retry'],
    ['404', 2, response(404), 'pending', 300_000, 'retry'],
    ['a network error', 1, { kind: 'error', reason: 'ECONNREFUSED' }, 'pending', 5_000, 'retry'],
    [
      'a timeout after the last retry',
      4,
      { kind: 'error', reason: 'timeout' },
      'failed',
      null,
      'failed',
    ],
    ['429 with Retry-After', 1, response(429, 60), 'pending', 60_000, 'retry'],
    ['503 with Retry-After', 1, response(503, 7), 'pending', 7_000, 'retry'],
    [
      '502 with a Retry-After shorter than the schedule',
      2,
      response(502, 1),
      'pending',
      300_000,
      'retry',
    ],
    ['504 with Retry-After: 0: the schedule', 2, response(504, 0), 'pending', 300_000, 'retry'],
    [
      '429 with a huge Retry-After: capped',
      1,
      response(429, 999_999),
      'pending',
      3_600_000,
      'retry',
    ],
    ['429 without Retry-After: the schedule', 1, response(429), 'pending', 5_000, 'retry'],
    ['500 with Retry-After: the schedule', 1, response(500, 60), 'pending', 5_000, 'retry'],
    ['429 with Retry-After after the last retry', 4, response(429, 1), 'failed', null, 'failed'],
    ['410: gone, the delivery waits', 1, response(410), 'pending', 0, 'gone'],
    ['nothing left to send', 1, { kind: 'unsendable', reason: 'purged' }, 'failed', null, 'failed'],
  ] as const)('%s', (_what, number, result, state, nextAfterMs, verdict) => {
    const decision = decideAttempt(
      { number, result, now: NOW },
      { failingSince: null },
      POLICY,
      MIDDLE,
    );
    expect(decision.state).toBe(state);
    expect(decision.result).toBe(verdict);
    expect(decision.nextAttemptAt).toEqual(nextAfterMs === null ? null : at(nextAfterMs));
  });

  it('should disable on 410 and remember since when it fails', () => {
    expect(
      decideAttempt({ number: 1, result: response(410), now: NOW }, { failingSince: null }, POLICY),
    ).toMatchObject({
      disable: 'gone',
      failingSince: NOW,
    });
  });

  it('should clear the failure clock on a success and start it on the first failure', () => {
    const since = at(-60_000);
    expect(
      decideAttempt({ number: 1, result: response(200), now: NOW }, { failingSince: since }, POLICY)
        .failingSince,
    ).toBeNull();
    expect(
      decideAttempt({ number: 1, result: response(500), now: NOW }, { failingSince: null }, POLICY)
        .failingSince,
    ).toEqual(NOW);
    expect(
      decideAttempt({ number: 1, result: response(500), now: NOW }, { failingSince: since }, POLICY)
        .failingSince,
    ).toEqual(since);
  });

  it('should disable a subscription that has failed for disableAfter without a success', () => {
    const justUnder = decideAttempt(
      { number: 1, result: response(500), now: NOW },
      { failingSince: at(-86_399_999) },
      POLICY,
    );
    const over = decideAttempt(
      { number: 1, result: { kind: 'error', reason: 'x' }, now: NOW },
      { failingSince: at(-86_400_000) },
      POLICY,
    );
    expect(justUnder.disable).toBeNull();
    expect(over.disable).toBe('failing');
    // The delivery itself keeps its schedule: re-enabling resumes it.
    expect(over.state).toBe('pending');
  });

  it('should spread retries by the jitter and never below zero', () => {
    const low = decideAttempt(
      { number: 1, result: response(500), now: NOW },
      { failingSince: null },
      POLICY,
      () => 0,
    );
    const high = decideAttempt(
      { number: 1, result: response(500), now: NOW },
      { failingSince: null },
      POLICY,
      () => 1,
    );
    expect(low.nextAttemptAt).toEqual(at(4_500));
    expect(high.nextAttemptAt).toEqual(at(5_500));
  });
});

describe('parseRetryAfter', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['120', 120],
    [' 5 ', 5],
    ['-1', null],
    ['1.5', null],
    ['soon', null],
    ['Thu, 01 Jan 2026 12:00:30 GMT', 30],
    ['Thu, 01 Jan 2026 11:00:00 GMT', 0],
  ])('%p → %p', (value, seconds) => {
    expect(parseRetryAfter(value, NOW)).toBe(seconds);
  });
});
