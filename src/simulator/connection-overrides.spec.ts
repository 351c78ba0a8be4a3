import { parseConnectionOverrides, withoutFragment } from './connection-overrides';

describe('parseConnectionOverrides', () => {
  it("should default to Twilio's: one retry, only on a failed connection, 5 s / 15 s / 15 s", () => {
    const overrides = parseConnectionOverrides('https://a.example.com/s?mid=1');
    expect(overrides).toMatchObject({
      connectTimeoutMs: 5000,
      readTimeoutMs: 15000,
      totalTimeMs: 15000,
      retryCount: 1,
    });
    expect([...overrides.retryOn]).toEqual(['ct']);
  });

  it('should read the fragment the design appends', () => {
    const overrides = parseConnectionOverrides('https://a.example.com/s?mid=1#rc=3&rp=5xx,rt,ct');
    expect(overrides.retryCount).toBe(3);
    expect([...overrides.retryOn].sort()).toEqual(['5xx', 'ct', 'rt']);
  });

  it('should expand rp=all and clamp values to Twilio ranges', () => {
    const overrides = parseConnectionOverrides('https://a/s#rc=9&rp=all&ct=50&rt=99999&tt=2000');
    expect(overrides).toMatchObject({
      retryCount: 5,
      connectTimeoutMs: 100,
      readTimeoutMs: 15000,
      totalTimeMs: 2000,
    });
    expect([...overrides.retryOn].sort()).toEqual(['4xx', '5xx', 'ct', 'rt']);
  });

  it('should strip only the fragment', () => {
    expect(withoutFragment('https://a/s?x=1#rc=3')).toBe('https://a/s?x=1');
    expect(withoutFragment('https://a/s?x=1')).toBe('https://a/s?x=1');
  });
});
