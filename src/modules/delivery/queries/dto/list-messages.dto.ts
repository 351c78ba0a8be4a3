import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsISO8601, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { INBOUND_STATUSES, OUTBOUND_STATUSES } from '../../status/status-machine';

const STATUSES = [...OUTBOUND_STATUSES, ...INBOUND_STATUSES];
const SINCE = {
  description: 'Strict ISO-8601 date or date-time; give an offset. `createdAt` ≥ since.',
  example: '2025-01-30T18:00:00.000Z',
} as const;
const UNTIL = {
  description: 'Strict ISO-8601 date or date-time; give an offset. `createdAt` < until.',
  example: '2025-01-31T18:00:00.000Z',
} as const;

export class ListMessagesQuery {
  @ApiPropertyOptional({ enum: STATUSES, enumName: 'MessageStatus' })
  @IsOptional()
  @IsIn(STATUSES)
  status?: string;

  @ApiPropertyOptional({ enum: ['outbound', 'inbound'] })
  @IsOptional()
  @IsIn(['outbound', 'inbound'])
  direction?: 'outbound' | 'inbound';

  @ApiPropertyOptional({
    maxLength: 64,
    description: '`+E164` or `whatsapp:+E164`: messages to or from that address.',
    example: '+14155550100',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  to?: string;

  @ApiPropertyOptional({ maxLength: 128, description: 'Exact match.', example: 'order-42' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  reference?: string;

  @ApiPropertyOptional(SINCE)
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional(UNTIL)
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;

  @ApiPropertyOptional({
    maxLength: 200,
    description: "The previous page's `nextCursor`, with the same filters.",
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

export class MetricsQuery {
  @ApiPropertyOptional({
    ...SINCE,
    description:
      'Start of the window (default: 24 h before until); before until, at most 31 days earlier.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ ...UNTIL, description: 'End of the window, exclusive (default: now).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;
}
