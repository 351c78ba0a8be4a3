import { Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.constants';
import { createBullConnection } from './bullmq-connection';

/**
 * The outbound processor's Redis connection (worker roles only): it retries forever and holds
 * commands while Redis is away, where the producer's fails fast (bullmq-connection.ts). BullMQ's
 * root config hands it to the processor's Worker; it is ours, not BullMQ's, so the processor
 * can tell at shutdown whether Redis is there to wait for.
 */
@Injectable()
export class WorkerConnection implements OnApplicationShutdown {
  readonly client: Redis;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.client = createBullConnection(
      config.redis.url,
      'worker',
      new Logger(WorkerConnection.name),
    );
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** After every onModuleDestroy, so the processor has closed its worker by then. */
  onApplicationShutdown(): void {
    this.client.disconnect();
  }
}

/** One WorkerConnection for BullMQ's root config and for the processor. */
@Module({ providers: [WorkerConnection], exports: [WorkerConnection] })
export class WorkerConnectionModule {}
