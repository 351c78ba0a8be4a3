import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-code';
import { ApiErrors } from '../../../common/http/openapi';
import { ReadThrottlerGuard } from '../../../common/http/read-throttler.guard';
import { DeliveryQueriesService } from './delivery-queries.service';
import { DeliveryMetricsResponse } from './dto/delivery-metrics.response';
import { ListMessagesQuery, MetricsQuery } from './dto/list-messages.dto';
import {
  MessageListResponse,
  MessageWithHistoryResponse,
  type MessageResponse,
} from './dto/message.response';

/**
 * Reads: any authenticated role (the global guard), READ_RATE_LIMIT per user. Single tenant:
 * every user sees every message.
 */
@Controller('api/v1/whatsapp')
@UseGuards(ReadThrottlerGuard)
@ApiBearerAuth()
export class DeliveryController {
  constructor(private readonly queries: DeliveryQueriesService) {}

  @Get('delivery-status/:messageSid')
  @ApiOperation({ summary: 'One message with its history, by our id or by Twilio SID' })
  @ApiParam({
    name: 'messageSid',
    description: "Our id (UUID, any case) or Twilio's SID (`SM`/`MM` + 32 hex).",
    example: 'SM0123456789abcdef0123456789abcdef',
  })
  @ApiOkResponse({ type: MessageWithHistoryResponse, description: 'The message.' })
  @ApiErrors(
    ErrorCode.Unauthorized,
    ErrorCode.NotFound,
    ErrorCode.RateLimited,
    ErrorCode.ServiceUnavailable,
  )
  status(@Param('messageSid') idOrSid: string): Promise<MessageResponse> {
    return this.queries.messageWithHistory(idOrSid);
  }

  @Get('messages')
  @ApiOperation({ summary: 'Messages, newest first, inbound and outbound; a page at a time' })
  @ApiOkResponse({ type: MessageListResponse, description: 'A page of messages.' })
  @ApiErrors(
    ErrorCode.ValidationFailed,
    ErrorCode.Unauthorized,
    ErrorCode.RateLimited,
    ErrorCode.ServiceUnavailable,
  )
  list(@Query() query: ListMessagesQuery): Promise<MessageListResponse> {
    return this.queries.list(query);
  }

  @Get('delivery-metrics')
  @ApiOperation({ summary: 'Delivery metrics of outbound messages created in [since, until)' })
  @ApiOkResponse({ type: DeliveryMetricsResponse, description: 'The metrics.' })
  @ApiErrors(
    ErrorCode.ValidationFailed,
    ErrorCode.Unauthorized,
    ErrorCode.RateLimited,
    ErrorCode.ServiceUnavailable,
  )
  metrics(@Query() query: MetricsQuery): Promise<DeliveryMetricsResponse> {
    return this.queries.metrics(query);
  }
}
