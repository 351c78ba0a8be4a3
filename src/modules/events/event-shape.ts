import type { LoggedEvent } from '../delivery/delivery.types';
import type { MessageResponse } from '../delivery/queries/dto/message.response';
import { encodeFeedCursor } from './feed/feed-cursor';

/** `message.status` data: the change, with what the message shows now. */
export interface MessageStatusData {
  messageId: string;
  messageSid: string | null;
  sequence: number;
  previousStatus: string | null;
  status: string;
  errorCode: number | null;
  errorMessage: string | null;
  reference: string | null;
  metadata: Record<string, unknown> | null;
  occurredAt: string;
}

/** The Event of the HTTP contract: what the feed serves and the subscriptions will receive. */
export interface Event {
  id: string;
  type: LoggedEvent['type'];
  createdAt: string;
  cursor: string;
  data: MessageStatusData | MessageResponse;
}

/** The public id of an event row: also its `webhook-id` when pushed to a subscription. */
export function eventId(rowId: string): string {
  return `evt_${rowId}`;
}

/**
 * The Event for a logged event, or null when its message no longer exists (only tests and
 * benchmarks delete messages): an event never shows a message it cannot read.
 */
export function toEvent(event: LoggedEvent): Event | null {
  const { message } = event;
  if (!message) return null;
  const envelope = {
    id: eventId(event.id),
    type: event.type,
    createdAt: event.createdAt.toISOString(),
    cursor: encodeFeedCursor(event.position),
  };
  if (event.type === 'message.inbound') return { ...envelope, data: message };
  return {
    ...envelope,
    data: {
      messageId: event.messageId,
      messageSid: message.messageSid,
      sequence: event.sequence,
      previousStatus: event.previousStatus,
      status: event.status,
      errorCode: event.errorCode,
      errorMessage: event.errorMessage,
      reference: message.reference,
      metadata: message.metadata,
      occurredAt: event.occurredAt.toISOString(),
    },
  };
}
