import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { PeriodicTask } from '../../common/periodic-task';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { TwilioClient } from '../twilio/twilio.client';
import { DeliveryMetricsService } from './delivery-metrics.service';
import { DeliveryService } from './delivery.service';
import { notFinalSql } from './status-machine';

const LOCK = 7_362_002;
const BATCH = 1000;
const CONCURRENCY = 8;

export interface ReconcileRun {
  checked: number;
  applied: number;
}

/**
 * Asks Twilio about messages stuck in a non-final status (callbacks get lost), the ones looked
 * at least recently first, then oldest first,
 * bounded per run and paced within the sender's rate, and applies the answers through the same
 * state machine (`source: reconciler`). One replica runs it at a time (a Postgres advisory lock).
 * Worker roles only (DeliveryWorkerModule).
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ReconcilerService.name);
  private readonly task = new PeriodicTask('reconciler', () => this.runOnce(), this.logger);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly twilio: TwilioClient,
    private readonly delivery: DeliveryService,
    private readonly metrics: DeliveryMetricsService,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start(this.config.delivery.reconcileEverySeconds * 1000);
  }

  onModuleDestroy(): Promise<void> {
    return this.task.stop();
  }

  /** One pass; null when another replica holds the lock. */
  runOnce(): Promise<ReconcileRun | null> {
    return this.dataSource.transaction(async (manager) => {
      const [{ locked }] = await manager.query<{ locked: boolean }[]>(
        'SELECT pg_try_advisory_xact_lock($1) AS locked',
        [LOCK],
      );
      if (!locked) return null;
      const due = await manager.query<{ id: string; sid: string }[]>(
        `SELECT id, twilio_sid AS sid FROM whatsapp_messages
          WHERE direction = 'outbound' AND twilio_sid IS NOT NULL
            AND ((${notFinalSql()}
                  AND updated_at < now() - $1 * interval '1 second')
              OR ($2 AND status = 'delivered' AND read_at IS NULL
                  AND delivered_at < now() - $1 * interval '1 second'
                  AND (reconciled_at IS NULL OR reconciled_at < delivered_at)))
          ORDER BY reconciled_at NULLS FIRST, created_at LIMIT $3`,
        [this.config.delivery.reconcileAfterSeconds, this.config.delivery.reconcileRead, BATCH],
      );
      const run = await this.reconcile(due);
      if (due.length > 0) this.logger.log(run, 'Reconciled messages with Twilio');
      this.metrics.refresh();
      return run;
    });
  }

  private async reconcile(due: { id: string; sid: string }[]): Promise<ReconcileRun> {
    const run: ReconcileRun = { checked: 0, applied: 0 };
    const perSecond =
      this.config.limits.twilioMps > 0 ? this.config.limits.twilioMps : Number.POSITIVE_INFINITY;
    for (let start = 0; start < due.length; start += CONCURRENCY) {
      const began = Date.now();
      const chunk = due.slice(start, start + CONCURRENCY);
      const results = await Promise.all(chunk.map((message) => this.reconcileOne(message)));
      run.checked += chunk.length;
      run.applied += results.filter(Boolean).length;
      // Stay within the sender's rate: fetches share Twilio's API budget with sends.
      const minimumMs = (chunk.length / perSecond) * 1000;
      const spent = Date.now() - began;
      if (minimumMs > spent) await sleep(minimumMs - spent);
    }
    return run;
  }

  private async reconcileOne(message: { id: string; sid: string }): Promise<boolean> {
    try {
      const truth = await this.twilio.fetchMessage(message.sid);
      const [result] = await this.delivery.applyStatusEvents([
        {
          messageId: message.id,
          twilioSid: message.sid,
          status: truth.status,
          errorCode: truth.errorCode,
          errorMessage: truth.errorMessage,
          source: 'reconciler',
        },
      ]);
      await this.dataSource.query(
        'UPDATE whatsapp_messages SET reconciled_at = now() WHERE id = $1',
        [message.id],
      );
      return result.outcome === 'applied';
    } catch (error) {
      // Marked as looked at too, so a message Twilio cannot answer for goes to the back of the
      // line instead of taking the head of every pass.
      await this.dataSource
        .query('UPDATE whatsapp_messages SET reconciled_at = now() WHERE id = $1', [message.id])
        .catch(() => undefined);
      this.logger.warn(
        { messageId: message.id, sid: message.sid, reason: (error as Error).message },
        'Could not reconcile',
      );
      return false;
    }
  }
}
