import type { Redis } from 'ioredis';

export interface WindowCount {
  count: number;
  /** Milliseconds until the window's counter expires. */
  resetMs: number;
}

// INCR and, for a new counter, its expiry — in one round trip, atomically.
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

/**
 * Fixed-window counters in Redis, shared by every replica: O(1) per call. A window starts with
 * its first hit and lasts `windowMs`. Callers decide what to do when Redis is unreachable
 * (every limiter of ours fails open).
 */
export class FixedWindowCounter {
  constructor(private readonly redis: Redis) {}

  async increment(key: string, windowMs: number): Promise<WindowCount> {
    const [count, ttl] = (await this.redis.eval(INCREMENT, 1, key, String(windowMs))) as [
      number,
      number,
    ];
    return { count, resetMs: ttl };
  }

  async peek(key: string): Promise<WindowCount> {
    const [count, ttl] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
    return { count: Number(count ?? 0), resetMs: Math.max(ttl, 0) };
  }
}
