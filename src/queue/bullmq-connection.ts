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
  kind: 'producer' | 'worker',
  logger: Pick<LoggerService, 'warn'>,
): Redis {
  const client = new Redis(url, {
    connectionName: `whatsapp-backend-${kind}`,
    maxRetriesPerRequest: kind === 'worker' ? null : 1,
    enableOfflineQueue: kind === 'worker',
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let down = false;
  client.on('error', (err: Error) => {
    if (!down)
      logger.warn(
        { redis: redactRedisUrl(url), connection: kind, reason: err.message },
        'Queue connection lost; retrying',
      );
    down = true;
  });
  client.on('ready', () => (down = false));
  return client;
}
