import { Inject, Injectable, Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { PeriodicService, type Schedule } from '../../../common/periodic-task';
import type { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.constants';
import { TwilioClient } from '../../twilio/twilio.client';
import { TWILIO_API_TIMEOUT_MS } from '../../twilio/twilio.types';
import { DeliveryMetricsService } from '../stats/delivery-metrics.service';
import { DeliveryService } from '../delivery.service';
import type { StatusEvent } from '../delivery.types';
import type { Timestamp } from '../status/message-moves';
import { ReconcileRepository, type LeasedMessage } from './reconcile.repository';

/** Messages looked at per pass at most. */
const PASS = 1000;
/** Fetches in flight at once. */
const CONCURRENCY = 8;
/** Messages leased at a time: four rounds of fetches. */
const CHUNK = 4 * CONCURRENCY;
/** Beyond the worst case of a chunk's fetches (each round timing out, plus pacing). */
const LEASE_MARGIN_MS = 30_000;

export interface ReconcileRun {
  checked: number;
  applied: number;
}

/**
 * Asks Twilio about messages stuck in a non-final status (callbacks get lost), the ones looked
 * at least recently first, then oldest first, bounded per pass and paced within the sender's
 * rate, and applies the answers through the same writer as callbacks (`source: reconciler`).
 * Nothing is held while Twilio answers: each chunk of messages is leased by one committed
 * statement (`reconcile_lease_until`, on the database's clock), fetched, then written with the
 * mark that it was looked at, which ends the lease. Replicas share the work: a leased message is
 * nobody else's until its lease runs out (a replica that died mid-chunk leaves it for that long).
 * Worker roles only (DeliveryWorkerModule).
 */
@Injectable()
export class ReconcilerService extends PeriodicService {
  protected readonly logger = new Logger(ReconcilerService.name);
  protected readonly taskName = 'reconciler';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly due: ReconcileRepository,
    private readonly twilio: TwilioClient,
    private readonly delivery: DeliveryService,
    private readonly metrics: DeliveryMetricsService,
  ) {
    super();
  }

  protected schedule(): Schedule {
    return { everyMs: this.config.delivery.reconcileEverySeconds * 1000 };
  }

  /** One pass: lease a chunk, look at Twilio, write the answers; until PASS or nothing is due. */
  async runOnce(): Promise<ReconcileRun> {
    const run: ReconcileRun = { checked: 0, applied: 0 };
    let passStartedAt: Timestamp | null = null;
    while (run.checked < PASS) {
      const chunk = await this.due.leaseDue({
        afterSeconds: this.config.delivery.reconcileAfterSeconds,
        backoffSeconds: this.config.delivery.reconcileBackoffSeconds,
        giveUpSeconds: this.config.delivery.reconcileGiveUpSeconds,
        read: this.config.delivery.reconcileRead,
        limit: Math.min(CHUNK, PASS - run.checked),
        leaseMs: this.leaseMs(),
        passStartedAt,
      });
      if (chunk.length === 0) break;
      passStartedAt ??= chunk[0].leasedAt;
      run.applied += await this.reconcile(chunk);
      run.checked += chunk.length;
    }
    if (run.checked > 0) this.logger.log(run, 'Reconciled messages with Twilio');
    this.metrics.forgetStuckCount();
    return run;
  }

  /** Long enough for a whole chunk's fetches, every round timing out, at the paced rate. */
  private leaseMs(): number {
    const rounds = CHUNK / CONCURRENCY;
    return rounds * TWILIO_API_TIMEOUT_MS + (CHUNK / this.perSecond()) * 1000 + LEASE_MARGIN_MS;
  }

  private perSecond(): number {
    const mps = this.config.limits.twilioMps;
    return mps > 0 ? mps : Number.POSITIVE_INFINITY;
  }

  /** Fetches a leased chunk, paced, then writes it: how many statuses moved. */
  private async reconcile(chunk: readonly LeasedMessage[]): Promise<number> {
    const answers: StatusEvent[] = [];
    const unanswered: string[] = [];
    for (let start = 0; start < chunk.length; start += CONCURRENCY) {
      const began = Date.now();
      const round = chunk.slice(start, start + CONCURRENCY);
      const events = await Promise.all(round.map((message) => this.lookUp(message)));
      round.forEach((message, index) => {
        const event = events[index];
        if (event) answers.push(event);
        else unanswered.push(message.id);
      });
      // Stay within the sender's rate: fetches share Twilio's API budget with sends.
      const minimumMs = (round.length / this.perSecond()) * 1000;
      const spent = Date.now() - began;
      if (minimumMs > spent) await sleep(minimumMs - spent);
    }
    // A message Twilio could not answer for is marked looked at too, so it goes to the back of
    // the line instead of taking the head of every pass.
    const [results] = await Promise.all([
      this.delivery.applyStatusEvents(answers),
      unanswered.length > 0 ? this.delivery.markReconciled(unanswered) : Promise.resolve(),
    ]);
    return results.filter((result) => result.outcome === 'applied').length;
  }

  private async lookUp(message: LeasedMessage): Promise<StatusEvent | null> {
    try {
      const truth = await this.twilio.fetchMessage(message.sid);
      return {
        messageId: message.id,
        twilioSid: message.sid,
        status: truth.status,
        errorCode: truth.errorCode,
        errorMessage: truth.errorMessage,
        source: 'reconciler',
        reconciled: true,
      };
    } catch (error) {
      this.logger.warn(
        { messageId: message.id, sid: message.sid, reason: (error as Error).message },
        'Could not reconcile',
      );
      return null;
    }
  }
}
