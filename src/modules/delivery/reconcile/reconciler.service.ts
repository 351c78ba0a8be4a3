import { Inject, Injectable, Logger } from '@nestjs/common';
import { PeriodicService, type Schedule } from '../../../common/periodic-task';
import type { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.constants';
import { TwilioClient } from '../../twilio/twilio.client';
import { TWILIO_API_TIMEOUT_MS } from '../../twilio/twilio.types';
import { DeliveryMetricsService } from '../stats/delivery-metrics.service';
import { DeliveryService } from '../delivery.service';
import type { StatusEvent } from '../delivery.types';
import type { Timestamp } from '../status/message-moves';
import { TwilioApiError, TwilioNetworkError } from '../../twilio/twilio.errors';
import { FETCH_SLOTS, FetchSlots } from './fetch-slots';
import { ReconcileRepository, type LeasedMessage } from './reconcile.repository';

/** Messages looked at per pass at most. */
const PASS = 1000;
/** Messages leased at a time: four rounds of the fleet's fetch slots. */
const CHUNK = 4 * FETCH_SLOTS;
/** Beyond the worst case of a chunk's fetches (each round timing out, plus waiting for slots). */
const LEASE_MARGIN_MS = 30_000;
/** A leased chunk's lease: long enough for its fetches, every round timing out. */
export const CHUNK_LEASE_MS = (CHUNK / FETCH_SLOTS) * TWILIO_API_TIMEOUT_MS + LEASE_MARGIN_MS;

export interface ReconcileRun {
  checked: number;
  applied: number;
}

/**
 * Asks Twilio about messages stuck in a non-final status (callbacks get lost), the ones looked
 * at least recently first, then oldest first, bounded per pass, at most FETCH_SLOTS fetches in
 * flight across replicas (FetchSlots; fetches are not creations, TWILIO_MPS does not apply), and applies the answers through the same writer as callbacks (`source: reconciler`).
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
    private readonly slots: FetchSlots,
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
        leaseMs: CHUNK_LEASE_MS,
        passStartedAt,
      });
      if (chunk.length === 0) break;
      passStartedAt ??= chunk[0].leasedAt;
      const looked = await this.lookAt(chunk);
      run.applied += looked.applied;
      run.checked += chunk.length;
      // Twilio asked us to slow down: the rest waits for the next pass.
      if (looked.throttled) break;
    }
    if (run.checked > 0) this.logger.log(run, 'Reconciled messages with Twilio');
    this.metrics.forgetStuckCount();
    return run;
  }

  /** The most messages a catch-up leases at once. */
  static readonly CHUNK = CHUNK;

  /**
   * Fetches a leased chunk from Twilio (FETCH_SLOTS at a time across replicas) and writes the
   * answers through the one writer, marked looked at. A message Twilio would not answer for now
   * (20429: too many requests; no answer at all) gets its lease back, due again at once; any
   * other refusal (e.g. 20404) is marked looked at too, so it goes to the back of the line
   * instead of taking the head of every pass.
   */
  async lookAt(
    chunk: readonly LeasedMessage[],
  ): Promise<{ applied: number; released: number; throttled: boolean }> {
    const looks = await Promise.all(
      chunk.map((message) => this.slots.run(() => this.lookUp(message))),
    );
    const answers: StatusEvent[] = [];
    const refused: string[] = [];
    const again: string[] = [];
    looks.forEach((look, index) => {
      if (look.kind === 'answer') answers.push(look.event);
      else if (look.kind === 'refused') refused.push(chunk[index].id);
      else again.push(chunk[index].id);
    });
    const [results] = await Promise.all([
      this.delivery.applyStatusEvents(answers),
      refused.length > 0 ? this.delivery.markReconciled(refused) : Promise.resolve(),
      this.due.release(again),
    ]);
    return {
      applied: results.filter((result) => result.outcome === 'applied').length,
      released: again.length,
      throttled: looks.some((look) => look.kind === 'again' && look.throttled),
    };
  }

  private async lookUp(message: LeasedMessage): Promise<Look> {
    try {
      const truth = await this.twilio.fetchMessage(message.sid);
      this.slots.answered();
      return {
        kind: 'answer',
        event: {
          messageId: message.id,
          twilioSid: message.sid,
          status: truth.status,
          errorCode: truth.errorCode,
          errorMessage: truth.errorMessage,
          source: 'reconciler',
          reconciled: true,
        },
      };
    } catch (error) {
      this.logger.warn(
        { messageId: message.id, sid: message.sid, reason: (error as Error).message },
        'Could not reconcile',
      );
      if (error instanceof TwilioApiError && (error.code === 20429 || error.status === 429)) {
        const retryAfter = error.retryAfterSeconds;
        await this.slots.backOff(retryAfter === undefined ? undefined : retryAfter * 1000);
        return { kind: 'again', throttled: true };
      }
      if (
        error instanceof TwilioNetworkError ||
        (error instanceof TwilioApiError && error.status >= 500)
      ) {
        return { kind: 'again', throttled: false };
      }
      return { kind: 'refused' };
    }
  }
}

/** What one fetch gave: Twilio's answer, a refusal to mark looked at, or "ask again soon". */
type Look =
  | { kind: 'answer'; event: StatusEvent }
  | { kind: 'refused' }
  | { kind: 'again'; throttled: boolean };
