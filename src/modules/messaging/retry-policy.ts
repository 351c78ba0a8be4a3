// What to do after a failed send attempt (docs/architecture.md §4.1). Pure and table-tested.

export type SendFailure =
  | { kind: 'network'; maybeProcessed: boolean }
  | { kind: 'api'; status: number; code: number | undefined; retryAfterSeconds?: number };

export type RetryDecision =
  | {
      action: 'retry';
      delayMs: number;
      /** The outcome is unknown: look the message up at Twilio before sending again. */
      uncertain: boolean;
      /** Twilio asked us to slow down: back off the whole sender, not just this message. */
      backOffSender: boolean;
    }
  | { action: 'fail'; retryable: boolean };

export interface RetrySettings {
  attempt: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  random: () => number;
}

/** Codes that say "later" (rate limits, queue overflow, transient Twilio errors). */
export const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  20429, // too many requests (REST concurrency): never processed
  20500, // internal server error (after the double-send lookup)
  20503, // service unavailable
  21611, // From's queue full
  30001, // queue overflow
  30500, // Twilio internal error
  63017, // account rate limit
  63018, // channel rate limit / WhatsApp tier limit
  63038, // daily message limit
]);

/** Codes that will not change on a retry. */
export const PERMANENT_CODES: ReadonlySet<number> = new Set([
  20003, // authentication
  21211, // invalid To
  21408, // region not enabled
  21602, // body required
  21603, // From required
  21604, // To required
  21610, // recipient unsubscribed (STOP)
  21612, // To not reachable
  21614, // To not a mobile number
  21617, // body too long
  63003, // not a WhatsApp user
  63007, // From is not a WhatsApp sender
  63016, // outside the 24-hour window: send a template
  63021, // invalid content
  63024, // invalid recipient
]);

const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([20429, 63017, 63018]);

/** Is a stored Twilio error code worth an operator's retry? */
export function isRetryableCode(code: number | null, httpStatus?: number): boolean {
  if (code !== null && RETRYABLE_CODES.has(code)) return true;
  if (code !== null && PERMANENT_CODES.has(code)) return false;
  return httpStatus === undefined ? false : httpStatus === 429 || httpStatus >= 500;
}

export function decideRetry(failure: SendFailure, settings: RetrySettings): RetryDecision {
  const retryable =
    failure.kind === 'network' || isRetryableCode(failure.code ?? null, failure.status);
  if (!retryable) return { action: 'fail', retryable: false };
  if (settings.attempt >= settings.maxAttempts) return { action: 'fail', retryable: true };
  const ceiling = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (settings.attempt - 1));
  const jittered = Math.floor(settings.random() * ceiling); // full jitter
  const rateLimited =
    failure.kind === 'api' && (failure.status === 429 || RATE_LIMIT_CODES.has(failure.code ?? 0));
  const retryAfterMs =
    failure.kind === 'api' && failure.retryAfterSeconds !== undefined
      ? failure.retryAfterSeconds * 1000
      : undefined;
  // Retry-After is honoured as a floor; a rate limit without one waits at least a second.
  const floor = retryAfterMs ?? (rateLimited ? 1000 : 0);
  return {
    action: 'retry',
    delayMs:
      rateLimited && retryAfterMs !== undefined
        ? retryAfterMs + Math.floor(settings.random() * 250)
        : Math.max(floor, jittered),
    uncertain: failure.kind === 'network' ? failure.maybeProcessed : failure.status >= 500,
    backOffSender: rateLimited,
  };
}
