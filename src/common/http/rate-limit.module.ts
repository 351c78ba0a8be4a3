import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { RedisThrottlerStorage } from '../../redis/redis-throttler.storage';
import { REDIS_CLIENT } from '../../redis/redis.constants';
import { Throttler } from './rate-limit.constants';

/**
 * The per-user limits (@nestjs/throttler, one registration for the app: its module is global),
 * counted in Redis and failing open while Redis is unreachable. Modules whose routes use a
 * RateLimitGuard import this.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG, REDIS_CLIENT],
      useFactory: (config: AppConfig, redis: Redis) => ({
        throttlers: [
          { name: Throttler.Send, ttl: 1000, limit: config.limits.sendPerUserPerSecond },
          { name: Throttler.Read, ttl: 1000, limit: config.limits.readPerUserPerSecond },
        ],
        storage: new RedisThrottlerStorage(redis),
      }),
    }),
  ],
  exports: [ThrottlerModule],
})
export class RateLimitModule {}
