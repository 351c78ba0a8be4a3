import { takeTokens } from './rate-tokens';

const NOW = new Date('2026-01-01T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);

describe('takeTokens', () => {
  it.each([
    ['a first claim finds a full bucket', { rate: 10, tokens: null, at: null }, 16, 10, 0],
    ['never more than wanted', { rate: 10, tokens: null, at: null }, 4, 4, 6],
    ['an empty bucket refills at the rate', { rate: 10, tokens: 0, at: ago(300) }, 16, 3, 0],
    ['refills up to the rate only', { rate: 10, tokens: 5, at: ago(60_000) }, 16, 10, 0],
    ['fractions wait for a whole token', { rate: 2, tokens: 0.4, at: ago(200) }, 5, 0, 0.8],
    ['a clock going back refills nothing', { rate: 10, tokens: 2, at: ago(-5_000) }, 16, 2, 0],
  ] as const)('%s', (_what, bucket, wanted, taken, tokens) => {
    const result = takeTokens(bucket, wanted, NOW);
    expect(result.taken).toBe(taken);
    expect(result.tokens).toBeCloseTo(tokens, 9);
  });
});
