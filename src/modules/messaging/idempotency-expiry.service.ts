import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { PeriodicTask } from '../../common/periodic-task';
import { IdempotencyRepository } from './idempotency.repository';

const BATCH = 1000;
const EVERY_MS = 3600_000;
const FIRST_RUN_AFTER_MS = 60_000;

/**
 * Hourly (worker roles): deletes Idempotency-Keys past their 24-hour replay window, in bounded
 * batches so the table is never locked for long. Messaging owns the keys, so it expires them.
 */
@Injectable()
export class IdempotencyExpiryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(IdempotencyExpiryService.name);
  private readonly task = new PeriodicTask('idempotency-expiry', () => this.runOnce(), this.logger);

  constructor(private readonly keys: IdempotencyRepository) {}

  onApplicationBootstrap(): void {
    this.task.start(EVERY_MS, FIRST_RUN_AFTER_MS);
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  /** One pass; how many keys it deleted. */
  async runOnce(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const batch = await this.keys.deleteExpired(BATCH);
      deleted += batch;
      if (batch < BATCH) break;
    }
    if (deleted > 0) this.logger.log({ deleted }, 'Expired idempotency keys deleted');
    return deleted;
  }
}
