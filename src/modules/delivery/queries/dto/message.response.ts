import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { MessageStatusLogEntity } from '../../entities/message-status-log.entity';
import type { WhatsappMessageEntity } from '../../entities/whatsapp-message.entity';
import { INBOUND_STATUSES, OUTBOUND_STATUSES } from '../../status/status-machine';

const DATE_TIME = { format: 'date-time', example: '2025-01-31T18:00:05.000Z' } as const;
const DATE_TIME_OR_NULL = { type: String, format: 'date-time', nullable: true } as const;
const STRING_OR_NULL = { type: String, nullable: true } as const;
const INTEGER_OR_NULL = { type: 'integer', nullable: true } as const;

/** One distinct status event of a message, kept even when it changed nothing. */
@ApiSchema({ name: 'HistoryEntry' })
export class HistoryEntry {
  @ApiProperty({ description: 'The status the event reported.', example: 'delivered' })
  status!: string;

  @ApiProperty({ enum: ['api', 'worker', 'callback', 'reconciler'], example: 'callback' })
  source!: string;

  @ApiProperty({ description: 'Whether it moved the message.', example: true })
  applied!: boolean;

  @ApiProperty({ ...INTEGER_OR_NULL, example: null })
  errorCode!: number | null;

  @ApiProperty({ ...STRING_OR_NULL, example: null })
  errorMessage!: string | null;

  @ApiProperty({ ...DATE_TIME, description: 'When we recorded it.' })
  receivedAt!: string;
}

/** The Message shape of the HTTP contract (docs/api.md §5.1). */
@ApiSchema({ name: 'Message' })
export class MessageResponse {
  @ApiProperty({ format: 'uuid', example: '3f1c2a9e-5b7d-4c1e-9a2b-6d8e0f1a2b3c' })
  id!: string;

  @ApiProperty({
    ...STRING_OR_NULL,
    description: "Twilio's SID; null until Twilio accepted an outbound message.",
    example: 'SM0123456789abcdef0123456789abcdef',
  })
  messageSid!: string | null;

  @ApiProperty({ enum: ['outbound', 'inbound'], example: 'outbound' })
  direction!: 'outbound' | 'inbound';

  @ApiProperty({
    enum: [...OUTBOUND_STATUSES, ...INBOUND_STATUSES],
    enumName: 'MessageStatus',
    example: 'delivered',
  })
  status!: string;

  @ApiProperty({ ...STRING_OR_NULL, example: 'whatsapp:+14155550199' })
  from!: string | null;

  @ApiProperty({
    description: '`whatsapp:+E164` (`erased:<hash>` after erasure).',
    example: 'whatsapp:+14155550100',
  })
  to!: string;

  @ApiProperty({ ...STRING_OR_NULL, example: 'Your order has shipped.' })
  body!: string | null;

  @ApiProperty({ ...STRING_OR_NULL, example: null })
  contentSid!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    nullable: true,
    example: null,
  })
  contentVariables!: Record<string, string> | null;

  @ApiProperty({ type: String, isArray: true, example: [] })
  mediaUrls!: string[];

  @ApiProperty({ ...STRING_OR_NULL, example: 'order-42' })
  reference!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: { orderId: 42 },
  })
  metadata!: Record<string, unknown> | null;

  @ApiProperty({ ...INTEGER_OR_NULL, example: null })
  errorCode!: number | null;

  @ApiProperty({ ...STRING_OR_NULL, example: null })
  errorMessage!: string | null;

  @ApiProperty({ type: 'integer', example: 1 })
  attempts!: number;

  @ApiProperty({ ...DATE_TIME, example: '2025-01-31T18:00:00.000Z' })
  createdAt!: string;

  @ApiProperty(DATE_TIME)
  updatedAt!: string;

  @ApiProperty({ ...DATE_TIME_OR_NULL, example: '2025-01-31T18:00:02.000Z' })
  sentAt!: string | null;

  @ApiProperty({ ...DATE_TIME_OR_NULL, example: '2025-01-31T18:00:05.000Z' })
  deliveredAt!: string | null;

  @ApiProperty({ ...DATE_TIME_OR_NULL, example: null })
  readAt!: string | null;

  @ApiProperty({ ...DATE_TIME_OR_NULL, example: null })
  failedAt!: string | null;

  // Not in this schema: the list leaves it out; MessageWithHistory has it.
  history?: HistoryEntry[];
}

/** A Message with its history: the delivery-status and retry answers. */
@ApiSchema({ name: 'MessageWithHistory' })
export class MessageWithHistoryResponse extends MessageResponse {
  @ApiProperty({ type: () => HistoryEntry, isArray: true, description: 'In arrival order.' })
  override history: HistoryEntry[] = [];
}

@ApiSchema({ name: 'MessageList' })
export class MessageListResponse {
  @ApiProperty({
    type: () => MessageResponse,
    isArray: true,
    description: 'Newest first, without history.',
  })
  items!: MessageResponse[];

  @ApiProperty({
    ...STRING_OR_NULL,
    description: "Opaque; the next page's `cursor`, null on the last page.",
    example: null,
  })
  nextCursor!: string | null;
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
