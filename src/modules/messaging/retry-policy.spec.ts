import {
  decideRetry,
  isRetryableCode,
  PERMANENT_CODES,
  RETRYABLE_CODES,
  type RetrySettings,
} from './retry-policy';

const settings = (patch: Partial<RetrySettings> = {}): RetrySettings => ({
  attempt: 1,
  maxAttempts: 8,
  baseDelayMs: 15_000,
  maxDelayMs: 15 * 60_000,
  random: () => 0.5,
  ...patch,
});

describe('decideRetry', () => {
  it.each([...RETRYABLE_CODES].map((code) => [code]))('should retry Twilio code %i', (code) => {
    const decision = decideRetry(
      { kind: 'api', status: code === 20500 ? 500 : 400, code },
      settings(),
    );
    expect(decision.action).toBe('retry');
  });

  it.each([...PERMANENT_CODES].map((code) => [code]))(
    'should fail at once on Twilio code %i, not retryable',
    (code) => {
      expect(decideRetry({ kind: 'api', status: 400, code }, settings())).toEqual({
        action: 'fail',
        retryable: false,
      });
    },
  );

  it.each([
    [{ kind: 'network', maybeProcessed: false } as const, false],
    [{ kind: 'network', maybeProcessed: true } as const, true],
    [{ kind: 'api', status: 500, code: undefined } as const, true],
    [{ kind: 'api', status: 502, code: undefined } as const, true],
    [{ kind: 'api', status: 429, code: 20429 } as const, false],
  ])('should retry %p, uncertain=%s (look before resending)', (failure, uncertain) => {
    const decision = decideRetry(failure, settings());
    expect(decision).toMatchObject({ action: 'retry', uncertain });
  });

  it.each([
    [{ kind: 'api', status: 400, code: undefined } as const],
    [{ kind: 'api', status: 404, code: 20404 } as const],
    [{ kind: 'api', status: 401, code: 20003 } as const],
  ])('should fail a 4xx without a retryable code: %p', (failure) => {
    expect(decideRetry(failure, settings())).toEqual({ action: 'fail', retryable: false });
  });

  it('should give up as retryable once the attempts are spent', () => {
    expect(
      decideRetry({ kind: 'network', maybeProcessed: false }, settings({ attempt: 8 })),
    ).toEqual({
      action: 'fail',
      retryable: true,
    });
    expect(
      decideRetry({ kind: 'network', maybeProcessed: false }, settings({ attempt: 7 })).action,
    ).toBe('retry');
  });

  it('should back off exponentially with full jitter, capped', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((attempt) => {
      const decision = decideRetry(
        { kind: 'network', maybeProcessed: false },
        settings({ attempt, maxAttempts: 100, random: () => 0.999999 }),
      );
      return decision.action === 'retry' ? decision.delayMs : -1;
    });
    expect(delays.slice(0, 7)).toEqual([
      14_999, 29_999, 59_999, 119_999, 239_999, 479_999, 899_999,
    ]);
    expect(delays[8]).toBe(899_999);
    const zero = decideRetry(
      { kind: 'network', maybeProcessed: false },
      settings({ random: () => 0 }),
    );
    expect(zero).toMatchObject({ delayMs: 0 });
  });

  it('should honour Retry-After on a 429 and back off the whole sender', () => {
    const decision = decideRetry(
      { kind: 'api', status: 429, code: 20429, retryAfterSeconds: 7 },
      settings({ random: () => 0 }),
    );
    expect(decision).toEqual({
      action: 'retry',
      delayMs: 7000,
      uncertain: false,
      backOffSender: true,
    });
  });

  it('should wait at least a second on 63018 without Retry-After', () => {
    const decision = decideRetry(
      { kind: 'api', status: 400, code: 63018 },
      settings({ random: () => 0 }),
    );
    expect(decision).toMatchObject({ action: 'retry', delayMs: 1000, backOffSender: true });
  });

  it('should sum to about half an hour of worst-case waiting over 8 attempts at the defaults', () => {
    let total = 0;
    for (let attempt = 1; attempt < 8; attempt += 1) {
      const decision = decideRetry(
        { kind: 'network', maybeProcessed: false },
        settings({ attempt, random: () => 1 }),
      );
      if (decision.action === 'retry') total += decision.delayMs;
    }
    expect(total / 60_000).toBeGreaterThan(25);
    expect(total / 60_000).toBeLessThan(40);
  });
});

describe('isRetryableCode', () => {
  it.each([
    [63018, undefined, true],
    [63016, undefined, false],
    [21610, undefined, false],
    [null, 503, true],
    [null, 429, true],
    [null, 400, false],
    [null, undefined, false],
    [99999, undefined, false],
  ])('code %p status %p → %s', (code, status, retryable) => {
    expect(isRetryableCode(code, status)).toBe(retryable);
  });
});
