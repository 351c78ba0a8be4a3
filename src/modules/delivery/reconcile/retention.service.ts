import { Inject, Injectable, Logger } from '@nestjs/common';
import { inBatches, PeriodicService, type Schedule } from '../../../common/periodic-task';
import type { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.constants';
import { RetentionRepository } from './retention.repository';

const BATCH = 1000;
const DAY_MS = 24 * 3600_000;
const FIRST_RUN_AFTER_MS = 60_000;

/**
 * Daily (worker roles: DeliveryWorkerModule): raw callback payloads older than RETENTION_DAYS
 * are cleared and events older than that deleted (so a client can catch up or replay at most
 * RETENTION_DAYS back), in bounded batches so no table is locked for long. (Idempotency keys are
 * messaging's: IdempotencyExpiryService.)
 */
@Injectable()
export class RetentionService extends PeriodicService {
  protected readonly logger = new Logger(RetentionService.name);
  protected readonly taskName = 'retention';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly retention: RetentionRepository,
  ) {
    super();
  }

  protected schedule(): Schedule {
    return { everyMs: DAY_MS, firstAfterMs: FIRST_RUN_AFTER_MS };
  }

  async runOnce(): Promise<{ payloadsCleared: number; eventsDeleted: number }> {
    const days = this.config.delivery.retentionDays;
    const payloadsCleared = await inBatches(
      (limit) => this.retention.clearPayloads(days, limit),
      BATCH,
    );
    const eventsDeleted = await inBatches(
      (limit) => this.retention.deleteEvents(days, limit),
      BATCH,
    );
    if (payloadsCleared + eventsDeleted > 0) {
      this.logger.log({ payloadsCleared, eventsDeleted }, 'Retention pass');
    }
    return { payloadsCleared, eventsDeleted };
  }
}
