import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-code';
import { ApiErrors } from '../../../common/http/openapi';
import { ReadThrottlerGuard } from '../../../common/http/read-throttler.guard';
import { EventListResponse } from '../dto/event.response';
import { ListEventsQuery } from '../dto/list-events.dto';
import { EventsFeedService } from './events-feed.service';

/** The events feed: any authenticated role (the global guard), READ_RATE_LIMIT per user. */
@Controller('api/v1/events')
@UseGuards(ReadThrottlerGuard)
@ApiBearerAuth()
export class EventsController {
  constructor(private readonly feed: EventsFeedService) {}

  @Get()
  @ApiOperation({
    summary: 'The events, in commit order, after a cursor: catch up without polling messages',
  })
  @ApiOkResponse({ type: EventListResponse, description: 'A page of events.' })
  @ApiErrors(
    ErrorCode.ValidationFailed,
    ErrorCode.Unauthorized,
    ErrorCode.RateLimited,
    ErrorCode.ServiceUnavailable,
  )
  list(@Query() query: ListEventsQuery): Promise<EventListResponse> {
    return this.feed.page(query);
  }
}
