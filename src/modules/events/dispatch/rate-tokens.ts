/** A subscription's token bucket: `rate` deliveries per second, bursts up to `rate`. */
export interface RateBucket {
  rate: number;
  /** Tokens at `at`; null before the first claim (a full bucket). */
  tokens: number | null;
  at: Date | null;
}

/**
 * Takes up to `wanted` whole tokens at `now` after refilling at `rate` per second (capped at
 * `rate`): how many it took and the tokens left. Pure; the claim stores what is left.
 */
export function takeTokens(
  bucket: RateBucket,
  wanted: number,
  now: Date,
): { taken: number; tokens: number } {
  const elapsedSeconds =
    bucket.at === null ? Infinity : Math.max(0, (now.getTime() - bucket.at.getTime()) / 1000);
  const available = Math.min(
    bucket.rate,
    (bucket.tokens ?? bucket.rate) + elapsedSeconds * bucket.rate,
  );
  const taken = Math.max(0, Math.min(wanted, Math.floor(available)));
  return { taken, tokens: available - taken };
}
