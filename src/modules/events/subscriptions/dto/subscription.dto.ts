import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { EVENT_TYPES, type EventType } from '../../../delivery/delivery.types';
import type { SubscriptionRow } from '../subscriptions.repository';

const URL_MAX = 2048;
/** Validate when given, null included (a field that cannot be null refuses it: 400, not 500). */
const PRESENT = (_object: object, value: unknown): boolean => value !== undefined;
/** `rateLimit`: absent, null (none), or 1–10,000 a second. */
const RateLimitRules = (): PropertyDecorator =>
  applyDecorators(
    IsOptional(),
    ValidateIf((_object, value) => value !== null),
    IsInt(),
    Min(1),
    Max(10_000),
  );

const EVENTS = { enum: EVENT_TYPES, enumName: 'EventType', isArray: true } as const;
const STRING_OR_NULL = { type: String, nullable: true } as const;
const DATE_TIME = { format: 'date-time', example: '2025-01-31T18:00:00.000Z' } as const;

export class CreateSubscriptionDto {
  @ApiProperty({
    maxLength: URL_MAX,
    description:
      'Where events are POSTed: https on port 443 to a public address (EVENTS_ALLOW_PRIVATE=on also allows http and private addresses).',
    example: 'https://hooks.example.com/whatsapp',
  })
  @IsString()
  @MaxLength(URL_MAX)
  @Matches(/^https?:\/\//i, { message: 'url must be an http(s) URL' })
  url!: string;

  @ApiProperty({ ...EVENTS, example: ['message.status', 'message.inbound'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(EVENT_TYPES, { each: true })
  events!: EventType[];

  @ApiPropertyOptional({ maxLength: 500, example: 'CRM sync' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 10_000,
    nullable: true,
    description: 'Deliveries per second at most (none by default).',
    example: null,
  })
  @RateLimitRules()
  rateLimit?: number | null;
}

export class UpdateSubscriptionDto {
  @ApiPropertyOptional({ maxLength: URL_MAX, example: 'https://hooks.example.com/whatsapp' })
  @ValidateIf(PRESENT)
  @IsString()
  @MaxLength(URL_MAX)
  @Matches(/^https?:\/\//i, { message: 'url must be an http(s) URL' })
  url?: string;

  @ApiPropertyOptional({ ...EVENTS, example: ['message.status'] })
  @ValidateIf(PRESENT)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(EVENT_TYPES, { each: true })
  events?: EventType[];

  @ApiPropertyOptional({ maxLength: 500, nullable: true, example: 'CRM sync' })
  @IsOptional()
  @ValidateIf((_object, value) => value !== null)
  @IsString()
  @MaxLength(500)
  description?: string | null;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 10_000,
    nullable: true,
    example: 50,
  })
  @RateLimitRules()
  rateLimit?: number | null;

  @ApiPropertyOptional({
    description:
      'true: no delivery is attempted (they wait); false: enabled again, the waiting deliveries resume in order.',
    example: false,
  })
  @ValidateIf(PRESENT)
  @IsBoolean()
  disabled?: boolean;
}

export class ReplayDto {
  @ApiProperty({
    ...DATE_TIME,
    description: 'Re-deliver the events created since then (ISO-8601 with an offset).',
  })
  @IsISO8601({ strict: true })
  since!: string;
}

export class ResendDto {
  @ApiProperty({ format: 'uuid', example: '0b7d7a52-3c4e-4f7a-9d1e-2a3b4c5d6e7f' })
  @IsUUID()
  subscriptionId!: string;
}

export class AttemptsQuery {
  @ApiPropertyOptional({ enum: ['succeeded', 'failed', 'pending'] })
  @IsOptional()
  @IsIn(['succeeded', 'failed', 'pending'])
  status?: 'succeeded' | 'failed' | 'pending';

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ maxLength: 30, description: "The previous page's `nextCursor`." })
  @IsOptional()
  @IsString()
  @Matches(/^\d{1,19}$/, { message: 'cursor must be a nextCursor from a previous page' })
  cursor?: string;
}

@ApiSchema({ name: 'Subscription' })
export class SubscriptionResponse {
  @ApiProperty({ format: 'uuid', example: '0b7d7a52-3c4e-4f7a-9d1e-2a3b4c5d6e7f' })
  id!: string;

  @ApiProperty({ example: 'https://hooks.example.com/whatsapp' })
  url!: string;

  @ApiProperty({ ...EVENTS, example: ['message.status', 'message.inbound'] })
  events!: EventType[];

  @ApiProperty({ ...STRING_OR_NULL, example: 'CRM sync' })
  description!: string | null;

  @ApiProperty({ type: 'integer', nullable: true, example: null })
  rateLimit!: number | null;

  @ApiProperty({ example: false })
  disabled!: boolean;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  disabledAt!: string | null;

  @ApiProperty({ ...STRING_OR_NULL, example: null })
  disabledReason!: string | null;

  @ApiProperty(DATE_TIME)
  createdAt!: string;
}

@ApiSchema({ name: 'SubscriptionWithSecret' })
export class SubscriptionWithSecretResponse extends SubscriptionResponse {
  @ApiProperty({
    description: 'The Standard Webhooks signing secret. Shown once: store it now.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  secret!: string;
}

@ApiSchema({ name: 'SubscriptionList' })
export class SubscriptionListResponse {
  @ApiProperty({ type: () => SubscriptionResponse, isArray: true, description: 'Oldest first.' })
  items!: SubscriptionResponse[];
}

@ApiSchema({ name: 'DeliveryAttempt' })
export class DeliveryAttemptEntry {
  @ApiProperty({ type: 'integer', example: 1 })
  attempt!: number;

  @ApiProperty(DATE_TIME)
  startedAt!: string;

  @ApiProperty({ type: 'integer', example: 84 })
  durationMs!: number;

  @ApiProperty({ type: 'integer', nullable: true, example: 500 })
  statusCode!: number | null;

  @ApiProperty({ ...STRING_OR_NULL, example: null })
  error!: string | null;

  @ApiProperty({ enum: ['succeeded', 'retry', 'failed', 'gone', 'stale'], example: 'retry' })
  result!: string;
}

@ApiSchema({ name: 'EventDelivery' })
export class DeliveryResponse {
  @ApiProperty({ example: '5123' })
  id!: string;

  @ApiProperty({
    description: 'The `webhook-id` it is sent under: the event id, or `ping_<id>` for a test.',
    example: 'evt_1042',
  })
  webhookId!: string;

  @ApiProperty({ enum: ['pending', 'succeeded', 'failed'], example: 'succeeded' })
  status!: 'pending' | 'succeeded' | 'failed';

  @ApiProperty({ type: 'integer', example: 2 })
  attempts!: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  nextAttemptAt!: string | null;

  @ApiProperty(DATE_TIME)
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  finishedAt!: string | null;

  @ApiProperty({ type: () => DeliveryAttemptEntry, isArray: true, description: 'Oldest first.' })
  history!: DeliveryAttemptEntry[];
}

@ApiSchema({ name: 'EventDeliveryList' })
export class DeliveryListResponse {
  @ApiProperty({ type: () => DeliveryResponse, isArray: true, description: 'Newest first.' })
  items!: DeliveryResponse[];

  @ApiProperty({ ...STRING_OR_NULL, example: null })
  nextCursor!: string | null;
}

@ApiSchema({ name: 'DeliveriesQueued' })
export class QueuedResponse {
  @ApiProperty({ type: 'integer', description: 'Deliveries queued.', example: 42 })
  queued!: number;
}

@ApiSchema({ name: 'PingQueued' })
export class PingQueuedResponse {
  @ApiProperty({ description: "The ping's `webhook-id`.", example: 'ping_5124' })
  webhookId!: string;
}

export function toSubscriptionResponse(row: SubscriptionRow): SubscriptionResponse {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    rateLimit: row.rateLimit,
    disabled: row.disabledAt !== null,
    disabledAt: row.disabledAt?.toISOString() ?? null,
    disabledReason: row.disabledReason,
    createdAt: row.createdAt.toISOString(),
  };
}
