import type { StageTimes } from './delivery-metrics.service';
import type { EventSource } from './entities/message-status-log.entity';

/** One status event from any source, for the one place that applies events. */
export interface StatusEvent {
  /** Our id when known (the callback URL's `mid`, the worker), else found by `twilioSid`. */
  messageId?: string;
  twilioSid?: string;
  status: string;
  errorCode?: number | null;
  errorMessage?: string | null;
  source: EventSource;
  /** Raw fields (callbacks): kept for audit, never secrets. */
  payload?: Record<string, unknown>;
  idempotencyToken?: string | null;
  at?: Date;
  /**
   * The reconciler's look at Twilio: the message is also marked looked at (`reconciled_at`) and
   * its reconcile lease ends, in the same write.
   */
  reconciled?: boolean;
}

/**
 * applied: the status moved forward. logged: a new distinct event that did not move it (late,
 * or an anomaly). duplicate: this event was seen before; nothing changed. orphan: no such
 * message; kept for later.
 */
export type EventOutcome = 'applied' | 'logged' | 'duplicate' | 'orphan';

export interface EventResult {
  outcome: EventOutcome;
  messageId: string | null;
  anomaly: boolean;
  /** The message's stage timestamps after an applied event. */
  stages?: StageTimes;
}
