import { generateApiKey, hashApiKey, looksLikeApiKey } from './api-key-format';

describe('API key format', () => {
  it('should be wak_ + 32 random bytes, with a listing prefix and a sha256 hash', () => {
    const { key, prefix, hash } = generateApiKey();
    expect(key).toMatch(/^wak_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(4), 'base64url')).toHaveLength(32);
    expect(prefix).toBe(key.slice(0, 12));
    expect(hash).toBe(hashApiKey(key));
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(looksLikeApiKey(key)).toBe(true);
  });

  it('should never repeat a key', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey().key));
    expect(keys.size).toBe(1000);
  });

  it.each(['', 'wak_', 'wak_short', `sk_${'a'.repeat(43)}`, `wak_${'a'.repeat(42)}!`])(
    'should not take %p for a key',
    (value) => {
      expect(looksLikeApiKey(value)).toBe(false);
    },
  );
});
