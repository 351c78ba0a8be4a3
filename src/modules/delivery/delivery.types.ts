// The delivery module's public types: what other modules hand it and get back from it
// (DeliveryService), in one place.
import type { EventSource } from './entities/message-status-log.entity';
import type { MessageResponse } from './queries/dto/message.response';

/** One status event from Twilio (a callback, the reconciler's look), for the status writer. */
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

/** A send as the API accepted it, before any worker holds it. */
export interface NewOutboundMessage {
  from: string | null;
  to: string;
  body: string | null;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  mediaUrls: string[];
  reference: string | null;
  metadata: Record<string, unknown> | null;
  createdBy: string;
  idempotencyKey: string | null;
  maxAttempts: number;
}

/** A message a worker now holds (`dispatching`), with what it needs to call Twilio. */
export interface ClaimedMessage extends Pick<
  NewOutboundMessage,
  'from' | 'to' | 'body' | 'contentSid' | 'contentVariables' | 'mediaUrls' | 'maxAttempts'
> {
  id: string;
  /** This attempt's number (1 for the first): the holder rule's key for every later move. */
  attempt: number;
  /** Set when an earlier attempt may have reached Twilio: look it up from then before sending. */
  uncertainSince: Date | null;
}

export interface DueMessage {
  id: string;
  attempts: number;
}

/** Twilio's answer to the create call (or the message an earlier attempt created). */
export interface TwilioAnswer {
  sid: string;
  status: string;
  errorCode: number | null;
  errorMessage: string | null;
}

export interface StageTimes {
  acceptedAt: Date | null;
  sentAt: Date | null;
  deliveredAt: Date | null;
  readAt: Date | null;
}

/** What a worker's own event did to the message. */
export interface MoveResult {
  applied: boolean;
  /** The message's stage timestamps after an applied move. */
  stages?: StageTimes;
}

export interface InboundMessage {
  twilioSid: string;
  from: string;
  to: string;
  body: string | null;
  mediaUrls: string[];
  metadata: Record<string, unknown>;
  /** The sender's E.164 number (contacts key). */
  phone: string;
  waId: string | null;
  profileName: string | null;
  /** STOP-style keyword → true, START-style → false, otherwise undefined. */
  optOut: boolean | undefined;
  payload: Record<string, unknown>;
  idempotencyToken: string | null;
}

export type InboundOutcome = 'stored' | 'duplicate';

/** A contact's window and opt-out, as the send policy reads them. */
export interface ContactSendState {
  lastInboundAt: Date | null;
  optedOutAt: Date | null;
}

/** The event log's event types (the feed's `type`; subscriptions choose among them). */
export const EVENT_TYPES = ['message.status', 'message.inbound'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * A place in the event log's commit order: the writing transaction's id (xid8), then the row's
 * id, both as decimal text (they exceed 2^53 in principle).
 */
export interface EventLogPosition {
  xid: string;
  id: string;
}

/** One event row with its message as it is now (null when the message no longer exists). */
export interface LoggedEvent {
  id: string;
  position: EventLogPosition;
  type: EventType;
  messageId: string;
  sequence: number;
  previousStatus: string | null;
  status: string;
  errorCode: number | null;
  errorMessage: string | null;
  occurredAt: Date;
  createdAt: Date;
  message: MessageResponse | null;
}

/** A page of the event log, and where the scan stopped (the next page starts after it). */
export interface EventLogPage {
  events: LoggedEvent[];
  last: EventLogPosition | null;
}
