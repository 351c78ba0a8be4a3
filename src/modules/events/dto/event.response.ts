import { ApiExtraModels, ApiProperty, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { EVENT_TYPES } from '../../delivery/delivery.types';
import { MessageResponse } from '../../delivery/queries/dto/message.response';
import { OUTBOUND_STATUSES } from '../../delivery/status/status-machine';
import type { Event, MessageStatusData } from '../event-shape';

const STRING_OR_NULL = { type: String, nullable: true } as const;
const DATE_TIME = { format: 'date-time', example: '2025-01-31T18:00:05.000Z' } as const;

/** `message.status` data (docs/api.md, the events feed). */
@ApiSchema({ name: 'MessageStatusEventData' })
export class MessageStatusEventData implements MessageStatusData {
  @ApiProperty({ format: 'uuid', example: '3f1c2a9e-5b7d-4c1e-9a2b-6d8e0f1a2b3c' })
  messageId!: string;

  @ApiProperty({ ...STRING_OR_NULL, example: 'SM0123456789abcdef0123456789abcdef' })
  messageSid!: string | null;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    description: "The message's events counted from 1, one more per event: order by it.",
    example: 3,
  })
  sequence!: number;

  @ApiProperty({
    enum: OUTBOUND_STATUSES,
    enumName: 'OutboundStatus',
    nullable: true,
    description: 'The status before this change (the first event: the status it was created with).',
    example: 'sent',
  })
  previousStatus!: string | null;

  @ApiProperty({ enum: OUTBOUND_STATUSES, enumName: 'OutboundStatus', example: 'delivered' })
  status!: string;

  @ApiProperty({ type: 'integer', nullable: true, example: null })
  errorCode!: number | null;

  @ApiProperty({ ...STRING_OR_NULL, example: null })
  errorMessage!: string | null;

  @ApiProperty({
    ...STRING_OR_NULL,
    description: "The message's, as it is now.",
    example: 'order-42',
  })
  reference!: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: "The message's, as it is now.",
    example: { orderId: 42 },
  })
  metadata!: Record<string, unknown> | null;

  @ApiProperty({ ...DATE_TIME, description: 'When the change was made (our clock).' })
  occurredAt!: string;
}

/** An event (docs/api.md, the events feed). */
@ApiSchema({ name: 'Event' })
@ApiExtraModels(MessageStatusEventData, MessageResponse)
export class EventResponse implements Event {
  @ApiProperty({
    description: "Unique and stable; the `webhook-id` of the event's deliveries.",
    example: 'evt_1042',
  })
  id!: string;

  @ApiProperty({ enum: EVENT_TYPES, enumName: 'EventType', example: 'message.status' })
  type!: Event['type'];

  @ApiProperty(DATE_TIME)
  createdAt!: string;

  @ApiProperty({
    description: "Opaque: this event's place in the feed; `after` it resumes behind it.",
    example: 'NzU2LjEwNDI',
  })
  cursor!: string;

  @ApiProperty({
    oneOf: [
      { $ref: getSchemaPath(MessageStatusEventData) },
      { $ref: getSchemaPath(MessageResponse) },
    ],
    description:
      '`message.status`: MessageStatusEventData; `message.inbound`: the inbound Message.',
  })
  data!: MessageStatusEventData | MessageResponse;
}

@ApiSchema({ name: 'EventList' })
export class EventListResponse {
  @ApiProperty({ type: () => EventResponse, isArray: true, description: 'In commit order.' })
  items!: EventResponse[];

  @ApiProperty({
    ...STRING_OR_NULL,
    description:
      'Where the next call starts (`after`): behind the last event of this page, or the `after` given when the page is empty; null only when nothing was ever read.',
    example: 'NzU2LjEwNDI',
  })
  nextCursor!: string | null;
}
