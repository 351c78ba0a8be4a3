import type { MessageStatusLogEntity } from '../../entities/message-status-log.entity';
import type { WhatsappMessageEntity } from '../../entities/whatsapp-message.entity';

export interface HistoryEntry {
  status: string;
  source: string;
  applied: boolean;
  errorCode: number | null;
  errorMessage: string | null;
  receivedAt: string;
}

/** The Message shape of the HTTP contract (docs/architecture.md §6). */
export interface MessageResponse {
  id: string;
  messageSid: string | null;
  direction: 'outbound' | 'inbound';
  status: string;
  from: string | null;
  to: string;
  body: string | null;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  mediaUrls: string[];
  reference: string | null;
  metadata: Record<string, unknown> | null;
  errorCode: number | null;
  errorMessage: string | null;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  readAt: string | null;
  failedAt: string | null;
  history?: HistoryEntry[];
}

const iso = (date: Date | null): string | null => date?.toISOString() ?? null;

export function toMessageResponse(
  message: WhatsappMessageEntity,
  history?: MessageStatusLogEntity[],
): MessageResponse {
  return {
    id: message.id,
    messageSid: message.twilioSid,
    direction: message.direction,
    status: message.status,
    from: message.from,
    to: message.to,
    body: message.body,
    contentSid: message.contentSid,
    contentVariables: message.contentVariables,
    mediaUrls: message.mediaUrls,
    reference: message.reference,
    metadata: message.metadata,
    errorCode: message.errorCode,
    errorMessage: message.errorMessage,
    attempts: message.attempts,
    createdAt: message.createdAt.toISOString(),
    updatedAt: message.updatedAt.toISOString(),
    sentAt: iso(message.sentAt),
    deliveredAt: iso(message.deliveredAt),
    readAt: iso(message.readAt),
    failedAt: iso(message.failedAt),
    ...(history
      ? {
          history: history.map((entry) => ({
            status: entry.status,
            source: entry.source,
            applied: entry.applied,
            errorCode: entry.errorCode,
            errorMessage: entry.errorMessage,
            receivedAt: entry.receivedAt.toISOString(),
          })),
        }
      : {}),
  };
}
