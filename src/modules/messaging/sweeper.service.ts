import { Inject, Injectable, Logger } from '@nestjs/common';
import { PeriodicService, type Schedule } from '../../common/periodic-task';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { OutboundQueue } from './outbound.queue';
import { DeliveryService } from '../delivery/delivery.service';

const BATCH = 500;

/**
 * The outbox's safety net (worker roles: MessagingWorkerModule): re-queues `pending` rows that are due
 * but have no live job (an enqueue that failed or timed out, a Redis flush) and `dispatching`
 * rows whose worker died. Job ids are per attempt, so two sweepers or a late original job never
 * send twice: the claim decides.
 */
@Injectable()
export class SweeperService extends PeriodicService {
  protected readonly logger = new Logger(SweeperService.name);
  protected readonly taskName = 'sweeper';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly delivery: DeliveryService,
    private readonly queue: OutboundQueue,
  ) {
    super();
  }

  protected schedule(): Schedule {
    return { everyMs: this.config.sending.sweepEveryMs };
  }

  /** One pass; returns how many jobs it queued. */
  async runOnce(): Promise<number> {
    let queued = 0;
    for (;;) {
      const due = await this.delivery.findDue(
        this.config.sending.sweepGraceMs,
        this.config.sending.dispatchStaleMs,
        BATCH,
      );
      let added = 0;
      for (const row of due) {
        if (await this.queue.hasLiveJob(row.id, row.attempts + 1)) continue;
        if (!(await this.queue.enqueue(row.id, row.attempts + 1))) return queued; // Redis still away
        added += 1;
      }
      queued += added;
      if (due.length < BATCH || added === 0) break;
    }
    if (queued > 0) this.logger.log({ queued }, 'Sweeper re-queued messages without a job');
    return queued;
  }
}
