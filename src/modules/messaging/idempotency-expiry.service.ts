import { Injectable, Logger } from '@nestjs/common';
import { inBatches, PeriodicService, type Schedule } from '../../common/periodic-task';
import { IdempotencyRepository } from './idempotency.repository';

const BATCH = 1000;
const EVERY_MS = 3600_000;
const FIRST_RUN_AFTER_MS = 60_000;

/**
 * Hourly (worker roles): deletes Idempotency-Keys past their 24-hour replay window, in bounded
 * batches so the table is never locked for long. Messaging owns the keys, so it expires them.
 */
@Injectable()
export class IdempotencyExpiryService extends PeriodicService {
  protected readonly logger = new Logger(IdempotencyExpiryService.name);
  protected readonly taskName = 'idempotency-expiry';

  constructor(private readonly keys: IdempotencyRepository) {
    super();
  }

  protected schedule(): Schedule {
    return { everyMs: EVERY_MS, firstAfterMs: FIRST_RUN_AFTER_MS };
  }

  /** One pass; how many keys it deleted. */
  async runOnce(): Promise<number> {
    const deleted = await inBatches((limit) => this.keys.deleteExpired(limit), BATCH);
    if (deleted > 0) this.logger.log({ deleted }, 'Expired idempotency keys deleted');
    return deleted;
  }
}
