/** RateLimitModule's throttlers; each names its own Redis counters. */
export enum Throttler {
  /** SEND_RATE_LIMIT: POST /send per user per second. */
  Send = 'send',
  /** READ_RATE_LIMIT: API reads per user per second. */
  Read = 'read',
}
