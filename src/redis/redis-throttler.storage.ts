import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import type { Redis } from 'ioredis';
import { FixedWindowCounter } from './fixed-window-counter';

/**
 * @nestjs/throttler's storage on Redis: O(1) fixed windows shared by every replica. While Redis
 * is unreachable it lets requests through (fail open): a Redis outage must not stop sends or
 * reads.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger(RedisThrottlerStorage.name);
  private readonly counter: FixedWindowCounter;

  constructor(redis: Redis) {
    this.counter = new FixedWindowCounter(redis);
  }

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    try {
      const { count, resetMs } = await this.counter.increment(`throttle:${key}`, ttl);
      const timeToExpire = Math.max(1, Math.ceil(resetMs / 1000));
      const isBlocked = count > limit;
      return {
        totalHits: count,
        timeToExpire,
        isBlocked,
        timeToBlockExpire: isBlocked ? timeToExpire : 0,
      };
    } catch (error) {
      this.logger.warn(
        { reason: (error as Error).message },
        'Rate limit store unavailable; allowing',
      );
      return { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };
    }
  }
}
