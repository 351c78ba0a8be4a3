import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DeliveryMetricsService } from './stats/delivery-metrics.service';
import type {
  ClaimedMessage,
  ContactSendState,
  DueMessage,
  EventResult,
  InboundMessage,
  InboundOutcome,
  MoveResult,
  NewOutboundMessage,
  StatusEvent,
  TwilioAnswer,
} from './delivery.types';
import { InboundBatcher } from './inbound/inbound-batcher';
import { WorkerBatcher } from './outbox/worker-batcher';
import { OutboxRepository } from './outbox/outbox.repository';
import { SendBatcher } from './outbox/send-batcher';
import { StatusBatchRepository } from './status/status-batch.repository';
import { StatusEventBatcher } from './status/status-event-batcher';
import { isFailure, isProgress } from './status/status-machine';

/**
 * The one owner of a message's state: every write to whatsapp_messages, message_status_logs
 * and contacts that another module needs goes through here, each move decided by the state
 * machine and written the one way (status/message-writer.ts) with its log row in one
 * transaction. Messaging (the outbox and the
 * worker), webhooks (Twilio's events, inbound messages) and the reconciler call only this.
 * The operations that apply events take arrays, so they can be grouped without touching
 * their callers.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly statusBatches: StatusBatchRepository,
    private readonly statusEvents: StatusEventBatcher,
    private readonly inboundMessages: InboundBatcher,
    private readonly sends: SendBatcher,
    private readonly workerMoves: WorkerBatcher,
    private readonly metrics: DeliveryMetricsService,
  ) {}

  /**
   * A new send (`pending`), committed when this resolves. Without `then` it is group-committed
   * with every other request's (SendBatcher); `then` writes the caller's own rows in the same
   * transaction (an idempotency key's answer), so that one gets a transaction of its own.
   */
  async createPending(
    message: NewOutboundMessage,
    then?: (manager: EntityManager, id: string) => Promise<void>,
  ): Promise<string> {
    const id =
      then === undefined
        ? await this.sends.createPending(message)
        : await this.outbox.createPending(message, then);
    this.metrics.messageReached('outbound', 'pending');
    return id;
  }

  /**
   * A worker takes the message (`dispatching`, attempts + 1), or null when it cannot; grouped
   * with the other jobs' claims (WorkerBatcher), resolved after its commit.
   */
  claimForSend(id: string, staleMs: number): Promise<ClaimedMessage | null> {
    return this.workerMoves.claim(id, staleMs);
  }

  /** Twilio created the message: its SID and first status, together (grouped: WorkerBatcher). */
  async recordAccepted(claimed: ClaimedMessage, answer: TwilioAnswer): Promise<void> {
    // Twilio has the message whatever it calls its first status: one we do not know would leave
    // the row `dispatching` without a holder's clock, where nothing picks it up again.
    const status =
      isProgress(answer.status) || isFailure(answer.status) ? answer.status : 'accepted';
    const result = await this.workerMoves.recordAccepted(claimed.id, claimed.attempt, {
      ...answer,
      status,
    });
    this.counted(status, result);
  }

  /** Back to `pending` for a later attempt; the attempt number, or null if the row moved on. */
  scheduleRetry(
    claimed: ClaimedMessage,
    retry: { delayMs: number; errorCode: number | null; errorMessage: string; uncertain: boolean },
  ): Promise<number | null> {
    return this.outbox.scheduleRetry(claimed.id, claimed.attempt, retry);
  }

  /** The send failed for good: `failed` with its code, and whether an admin retry makes sense. */
  async recordSendFailure(
    claimed: ClaimedMessage,
    failure: { errorCode: number | null; errorMessage: string; retryable: boolean },
  ): Promise<void> {
    const result = await this.outbox.recordSendFailure(claimed.id, claimed.attempt, failure);
    this.counted('failed', result);
  }

  /** An admin's retry of a failed message: its attempt count, or null when it is not retryable. */
  retry(id: string, extraAttempts: number): Promise<number | null> {
    return this.outbox.retryFailed(id, extraAttempts);
  }

  /**
   * Twilio's status events (callbacks, the reconciler), one result per event in order. They are
   * group-committed with every other caller's (StatusEventBatcher); each result comes only after
   * its event's transaction committed.
   */
  async applyStatusEvents(events: readonly StatusEvent[]): Promise<EventResult[]> {
    const results = await Promise.all(events.map((event) => this.statusEvents.submit(event)));
    events.forEach((event, index) => this.countedEvent(event, results[index]));
    return results;
  }

  /**
   * How far behind this process's callback writes are (ms): the oldest status callback or inbound
   * message not yet committed. The send budget's pacing signal (CallbackPressureReporter).
   */
  callbackLagMs(): number {
    return Math.max(this.statusEvents.lagMs(), this.inboundMessages.lagMs());
  }

  /**
   * The reconciler looked at these messages and Twilio could not answer: each is marked looked at
   * (its lease ends) so it goes to the back of the line.
   */
  markReconciled(ids: readonly string[]): Promise<void> {
    return this.statusBatches.markReconciled(ids);
  }

  /**
   * Inbound messages, each stored once per MessageSid with its contact's window and opt-out;
   * group-committed with every other caller's (InboundBatcher), each outcome after its commit.
   */
  async recordInbound(messages: readonly InboundMessage[]): Promise<InboundOutcome[]> {
    const outcomes = await Promise.all(
      messages.map((message) => this.inboundMessages.record(message)),
    );
    for (const outcome of outcomes) {
      if (outcome === 'stored') this.metrics.messageReached('inbound', 'received');
    }
    return outcomes;
  }

  /** Rows whose job may be gone: due `pending` ones and `dispatching` ones whose worker died. */
  findDue(graceMs: number, staleMs: number, limit: number): Promise<DueMessage[]> {
    return this.outbox.findDue(graceMs, staleMs, limit);
  }

  /** Whether another of our messages already holds this Twilio SID. */
  sidTaken(sid: string, exceptId: string): Promise<boolean> {
    return this.outbox.sidTaken(sid, exceptId);
  }

  /** The window and opt-out of an E.164 number's contact, or null (batched: SendBatcher). */
  findContact(phone: string): Promise<ContactSendState | null> {
    return this.sends.contactState(phone);
  }

  private counted(status: string, result: MoveResult): void {
    this.metrics.statusEvent(status, result.applied);
    if (!result.applied) return;
    this.metrics.messageReached('outbound', status);
    if (result.stages) this.metrics.stageReached(status, result.stages);
  }

  private countedEvent(event: StatusEvent, result: EventResult): void {
    if (result.outcome === 'applied' || result.outcome === 'logged') {
      this.metrics.statusEvent(event.status, result.outcome === 'applied');
    }
    if (result.outcome === 'applied') {
      this.metrics.messageReached('outbound', event.status);
      if (result.stages) this.metrics.stageReached(event.status, result.stages);
    }
    if (result.anomaly) {
      this.logger.warn(
        {
          messageId: result.messageId,
          sid: event.twilioSid,
          status: event.status,
          errorCode: event.errorCode,
        },
        'Failure reported after delivery; logged, not applied',
      );
    }
  }
}
