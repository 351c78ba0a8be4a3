// The bench's own reads and deletes in Redis (the app's keys stay the app's business).
import { Redis } from 'ioredis';
import { REDIS_URL } from './settings';

/** When BullMQ moved each job to active (ms, Redis' clock), from the queue's events stream. */
export async function activeTimes(streamKey: string): Promise<number[]> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const entries = await redis.xrange(streamKey, '-', '+');
    return entries.flatMap(([id, fields]) => {
      const event = fields[fields.indexOf('event') + 1];
      return event === 'active' ? [Number(id.split('-')[0])] : [];
    });
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under the prefixes. */
export async function cleanRedis(prefixes: string[]): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = nextCursor;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
