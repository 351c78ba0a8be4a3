import { Redis, type RedisOptions } from 'ioredis';
import type { LoggerService } from '@nestjs/common';

export interface RedisConnectionOptions {
  url: string;
  keyPrefix?: string;
  /** Name shown in logs and in CLIENT LIST. */
  name: string;
}

/**
 * A client that never blocks a request on an unreachable Redis: no offline queue (commands
 * fail at once while disconnected, so Redis-backed limits can fail open), reconnecting in the
 * background with a capped backoff, and one log line per state change instead of one per retry;
 * commands are auto-pipelined.
 */
export function createRedisConnection(
  options: RedisConnectionOptions,
  logger: Pick<LoggerService, 'log' | 'warn'>,
): Redis {
  const redisOptions: RedisOptions = {
    connectionName: options.name,
    keyPrefix: options.keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    // Commands issued in one turn of the event loop (every request's replay look-up, rate-limit
    // counters) go out as one write: under load, one syscall for many requests.
    enableAutoPipelining: true,
  };
  const client = new Redis(options.url, redisOptions);
  let healthy: boolean | undefined;
  client.on('ready', () => {
    if (healthy !== true) logger.log({ redis: redactRedisUrl(options.url) }, 'Redis connected');
    healthy = true;
  });
  client.on('error', (err: Error) => {
    if (healthy !== false) {
      logger.warn(
        { redis: redactRedisUrl(options.url), reason: err.message },
        'Redis unreachable; retrying in the background',
      );
    }
    healthy = false;
  });
  return client;
}

/** host:port of a Redis URL, without credentials, for logs and messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '6379'}`;
  } catch {
    return 'redis';
  }
}
