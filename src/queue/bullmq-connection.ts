import type { LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import { redactRedisUrl } from '../redis/redis-connection';

/**
 * A connection for BullMQ. Producers fail fast while Redis is away (no offline queue: the outbox
 * row waits in Postgres for the sweeper); workers need `maxRetriesPerRequest: null` and retry
 * forever, so a worker never stops for good after an outage.
 */
export function createBullConnection(
  url: string,
  role: 'producer' | 'worker',
  logger: Pick<LoggerService, 'warn'>,
): Redis {
  const client = new Redis(url, {
    connectionName: `whatsapp-backend-${role}`,
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    enableOfflineQueue: role === 'worker',
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let down = false;
  client.on('error', (err: Error) => {
    if (!down)
      logger.warn(
        { redis: redactRedisUrl(url), role, reason: err.message },
        'Queue connection lost; retrying',
      );
    down = true;
  });
  client.on('ready', () => (down = false));
  return client;
}
