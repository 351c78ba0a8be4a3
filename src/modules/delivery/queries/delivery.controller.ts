import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ReadThrottlerGuard } from '../../../common/http/read-throttler.guard';
import { DeliveryQueriesService, type DeliveryMetrics } from './delivery-queries.service';
import { ListMessagesQuery, MetricsQuery } from './dto/list-messages.dto';
import type { MessageResponse } from './dto/message.response';

/**
 * Reads: any authenticated role (the global guard), READ_RATE_LIMIT per user. Single tenant:
 * every user sees every message.
 */
@Controller('api/v1/whatsapp')
@UseGuards(ReadThrottlerGuard)
export class DeliveryController {
  constructor(private readonly queries: DeliveryQueriesService) {}

  @Get('delivery-status/:messageSid')
  status(@Param('messageSid') idOrSid: string): Promise<MessageResponse> {
    return this.queries.messageWithHistory(idOrSid);
  }

  @Get('messages')
  list(
    @Query() query: ListMessagesQuery,
  ): Promise<{ items: MessageResponse[]; nextCursor: string | null }> {
    return this.queries.list(query);
  }

  @Get('delivery-metrics')
  metrics(@Query() query: MetricsQuery): Promise<DeliveryMetrics> {
    return this.queries.metrics(query);
  }
}
