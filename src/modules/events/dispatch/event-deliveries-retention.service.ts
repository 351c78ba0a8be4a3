import { Inject, Injectable, Logger } from '@nestjs/common';
import { inBatches, PeriodicService, type Schedule } from '../../../common/periodic-task';
import type { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.constants';
import { DeliveriesRepository } from './deliveries.repository';

const BATCH = 1000;
const DAY_MS = 24 * 3600_000;
const FIRST_RUN_AFTER_MS = 90_000;

/**
 * Daily (worker roles): event deliveries and their attempts older than RETENTION_DAYS are
 * deleted, as the events are (delivery's RetentionService), in bounded batches.
 */
@Injectable()
export class EventDeliveriesRetention extends PeriodicService {
  protected readonly logger = new Logger(EventDeliveriesRetention.name);
  protected readonly taskName = 'event deliveries retention';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: DeliveriesRepository,
  ) {
    super();
  }

  protected schedule(): Schedule {
    return { everyMs: DAY_MS, firstAfterMs: FIRST_RUN_AFTER_MS };
  }

  async runOnce(): Promise<number> {
    const deleted = await inBatches(
      (limit) => this.deliveries.deleteOlderThan(this.config.delivery.retentionDays, limit),
      BATCH,
    );
    if (deleted > 0) this.logger.log({ deleted }, 'Event deliveries retention pass');
    return deleted;
  }
}
