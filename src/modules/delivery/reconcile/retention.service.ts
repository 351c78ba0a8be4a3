import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { PeriodicTask } from '../../../common/periodic-task';
import type { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.constants';
import { RetentionRepository } from './retention.repository';

const BATCH = 1000;
const DAY_MS = 24 * 3600_000;
const FIRST_RUN_AFTER_MS = 60_000;

/**
 * Daily (worker roles: DeliveryWorkerModule): raw callback payloads older than RETENTION_DAYS
 * are cleared, in bounded batches so no table is locked for long. (Idempotency keys are
 * messaging's: IdempotencyExpiryService.)
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RetentionService.name);
  private readonly task = new PeriodicTask('retention', () => this.runOnce(), this.logger);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly retention: RetentionRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start(DAY_MS, FIRST_RUN_AFTER_MS);
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  async runOnce(): Promise<{ payloadsCleared: number }> {
    let payloadsCleared = 0;
    for (;;) {
      const cleared = await this.retention.clearPayloads(this.config.delivery.retentionDays, BATCH);
      payloadsCleared += cleared;
      if (cleared < BATCH) break;
    }
    if (payloadsCleared > 0) this.logger.log({ payloadsCleared }, 'Retention pass');
    return { payloadsCleared };
  }
}
