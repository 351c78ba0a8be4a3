import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import { ErrorCode } from '../../../common/errors/error-code';
import { ApiErrors, JSON_BODY_ERRORS } from '../../../common/http/openapi';
import { ReadThrottlerGuard } from '../../../common/http/read-throttler.guard';
import { UuidParamPipe } from '../../../common/http/uuid-param.pipe';
import type { Principal } from '../../auth/auth.types';
import { CurrentUser } from '../../auth/current-user.decorator';
import { Roles } from '../../auth/roles.decorator';
import {
  AttemptsQuery,
  CreateSubscriptionDto,
  DeliveryListResponse,
  PingQueuedResponse,
  QueuedResponse,
  ReplayDto,
  ResendDto,
  SubscriptionListResponse,
  SubscriptionResponse,
  SubscriptionWithSecretResponse,
  toSubscriptionResponse,
  UpdateSubscriptionDto,
} from './dto/subscription.dto';
import { SubscriptionsService } from './subscriptions.service';

const ID = { name: 'id', format: 'uuid', description: "The subscription's id." } as const;

/** Event subscriptions (admin). */
@Roles('admin')
@ApiBearerAuth()
@Controller('api/v1/subscriptions')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @ApiOperation({ summary: 'Subscribe a URL to events (admin); the secret is shown once' })
  @ApiCreatedResponse({ type: SubscriptionWithSecretResponse, description: 'The subscription.' })
  @ApiErrors(...JSON_BODY_ERRORS, ErrorCode.Unauthorized, ErrorCode.Forbidden)
  async create(
    @Body() body: CreateSubscriptionDto,
    @CurrentUser() principal: Principal,
  ): Promise<SubscriptionWithSecretResponse> {
    const row = await this.subscriptions.create(body, principal.userId);
    return { ...toSubscriptionResponse(row), secret: row.secret };
  }

  @Get()
  @UseGuards(ReadThrottlerGuard)
  @ApiOperation({ summary: 'List the subscriptions (admin)' })
  @ApiOkResponse({ type: SubscriptionListResponse, description: 'Every subscription.' })
  @ApiErrors(ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.RateLimited)
  async list(): Promise<SubscriptionListResponse> {
    return { items: (await this.subscriptions.list()).map(toSubscriptionResponse) };
  }

  @Get(':id')
  @UseGuards(ReadThrottlerGuard)
  @ApiOperation({ summary: 'One subscription (admin)' })
  @ApiParam(ID)
  @ApiOkResponse({ type: SubscriptionResponse, description: 'The subscription.' })
  @ApiErrors(ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.NotFound, ErrorCode.RateLimited)
  async get(@Param('id', UuidParamPipe) id: string): Promise<SubscriptionResponse> {
    return toSubscriptionResponse(await this.subscriptions.get(id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change the URL, events, description, rate limit, or disable (admin)' })
  @ApiParam(ID)
  @ApiOkResponse({ type: SubscriptionResponse, description: 'The subscription.' })
  @ApiErrors(...JSON_BODY_ERRORS, ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.NotFound)
  async update(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: UpdateSubscriptionDto,
  ): Promise<SubscriptionResponse> {
    return toSubscriptionResponse(await this.subscriptions.update(id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a subscription with its deliveries (admin)' })
  @ApiParam(ID)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiErrors(ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.NotFound)
  async delete(@Param('id', UuidParamPipe) id: string): Promise<void> {
    await this.subscriptions.delete(id);
  }

  @Post(':id/rotate-secret')
  @ApiOperation({ summary: 'A new secret (admin); the old one keeps signing for 24 h' })
  @ApiParam(ID)
  @ApiCreatedResponse({ type: SubscriptionWithSecretResponse, description: 'The new secret.' })
  @ApiErrors(ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.NotFound)
  async rotateSecret(
    @Param('id', UuidParamPipe) id: string,
  ): Promise<SubscriptionWithSecretResponse> {
    const row = await this.subscriptions.rotateSecret(id);
    return { ...toSubscriptionResponse(row), secret: row.secret };
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a `ping` event (not in the feed) to the subscription (admin)' })
  @ApiParam(ID)
  @ApiAcceptedResponse({ type: PingQueuedResponse, description: 'Queued.' })
  @ApiErrors(ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.NotFound)
  async test(@Param('id', UuidParamPipe) id: string): Promise<PingQueuedResponse> {
    return { webhookId: await this.subscriptions.test(id) };
  }

  @Post(':id/replay')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Re-deliver the events since a time, with the same webhook-ids (admin)',
  })
  @ApiParam(ID)
  @ApiAcceptedResponse({ type: QueuedResponse, description: 'Queued behind the open ones.' })
  @ApiErrors(...JSON_BODY_ERRORS, ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.NotFound)
  async replay(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: ReplayDto,
  ): Promise<QueuedResponse> {
    return { queued: await this.subscriptions.replay(id, body.since) };
  }

  @Get(':id/attempts')
  @UseGuards(ReadThrottlerGuard)
  @ApiOperation({
    summary: "The subscription's deliveries and their attempts, newest first (admin)",
  })
  @ApiParam(ID)
  @ApiOkResponse({ type: DeliveryListResponse, description: 'A page of deliveries.' })
  @ApiErrors(
    ErrorCode.ValidationFailed,
    ErrorCode.Unauthorized,
    ErrorCode.Forbidden,
    ErrorCode.NotFound,
    ErrorCode.RateLimited,
  )
  attempts(
    @Param('id', UuidParamPipe) id: string,
    @Query() query: AttemptsQuery,
  ): Promise<DeliveryListResponse> {
    return this.subscriptions.attempts(id, query);
  }
}

/** `POST /api/v1/events/:eventId/resend` (admin). */
@Roles('admin')
@ApiBearerAuth()
@Controller('api/v1/events')
export class EventResendController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post(':eventId/resend')
  @HttpCode(202)
  @ApiOperation({ summary: 'Deliver one event again to one subscription (admin)' })
  @ApiParam({ name: 'eventId', description: "The event's id.", example: 'evt_1042' })
  @ApiAcceptedResponse({ type: QueuedResponse, description: 'Queued behind its lane.' })
  @ApiErrors(...JSON_BODY_ERRORS, ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.NotFound)
  async resend(
    @Param('eventId') eventId: string,
    @Body() body: ResendDto,
  ): Promise<QueuedResponse> {
    await this.subscriptions.resend(eventId, body.subscriptionId.toLowerCase());
    return { queued: 1 };
  }
}
