import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.constants';
import { CallbackPressureBoard } from './callback-pressure';
import { createRedisConnection } from './redis-connection';
import { REDIS_CLIENT } from './redis.constants';

@Injectable()
class RedisShutdown implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    // quit() waits for pending replies; disconnect() if the server is gone.
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS_CLIENT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): Redis =>
        createRedisConnection(
          { url: config.redis.url, keyPrefix: config.redis.keyPrefix, name: 'whatsapp-backend' },
          new Logger('Redis'),
        ),
    },
    RedisShutdown,
    CallbackPressureBoard,
  ],
  exports: [REDIS_CLIENT, CallbackPressureBoard],
})
export class RedisModule {}
