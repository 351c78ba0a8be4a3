import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PeriodicTask } from '../../common/periodic-task';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';

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
    private readonly dataSource: DataSource,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start(DAY_MS, FIRST_RUN_AFTER_MS);
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  async runOnce(): Promise<{ payloadsCleared: number }> {
    const payloadsCleared = await this.inBatches(
      `UPDATE message_status_logs SET payload = NULL
        WHERE id IN (SELECT id FROM message_status_logs
                      WHERE payload IS NOT NULL AND received_at < now() - $1 * interval '1 day'
                      LIMIT ${BATCH})`,
      [this.config.delivery.retentionDays],
    );
    if (payloadsCleared > 0) this.logger.log({ payloadsCleared }, 'Retention pass');
    return { payloadsCleared };
  }

  private async inBatches(sql: string, parameters: unknown[]): Promise<number> {
    let total = 0;
    for (;;) {
      const result = await this.dataSource.query<[unknown, number]>(sql, parameters);
      const affected = result[1];
      total += affected;
      if (affected < BATCH) return total;
    }
  }
}
