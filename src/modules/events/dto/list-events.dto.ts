import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { EVENT_TYPES, type EventType } from '../../delivery/delivery.types';
import { FEED_DEFAULT_LIMIT, FEED_MAX_LIMIT } from '../feed/events-feed.service';

export class ListEventsQuery {
  @ApiPropertyOptional({
    maxLength: 100,
    description:
      "A page's `nextCursor` or an event's `cursor`: the events committed after it. Without it, from the oldest event kept (RETENTION_DAYS).",
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  after?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: FEED_MAX_LIMIT,
    default: FEED_DEFAULT_LIMIT,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(FEED_MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ enum: EVENT_TYPES, enumName: 'EventType' })
  @IsOptional()
  @IsIn(EVENT_TYPES)
  type?: EventType;
}
