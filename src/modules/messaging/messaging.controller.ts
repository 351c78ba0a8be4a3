import { Body, Controller, Headers, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ErrorCode } from '../../common/errors/error-code';
import { ApiErrors, JSON_BODY_ERRORS } from '../../common/http/openapi';
import { addRequestLogFields } from '../../common/http/request-log';
import { UuidParamPipe } from '../../common/http/uuid-param.pipe';
import type { Principal } from '../auth/auth.types';
import { CurrentUser } from '../auth/current-user.decorator';
import { Roles } from '../auth/roles.decorator';
import {
  MessageWithHistoryResponse,
  type MessageResponse,
} from '../delivery/queries/dto/message.response';
import { SendAccepted, SendMessageDto } from './dto/send-message.dto';
import { MessagingService } from './messaging.service';
import { SendThrottlerGuard } from './send-throttler.guard';

@Controller('api/v1/whatsapp')
@ApiBearerAuth()
export class MessagingController {
  constructor(private readonly messaging: MessagingService) {}

  @Post('send')
  @HttpCode(202)
  @Roles('sender', 'admin')
  @UseGuards(SendThrottlerGuard)
  @ApiOperation({ summary: 'Send a WhatsApp message: stored now, sent asynchronously' })
  @ApiHeader({
    name: 'idempotency-key',
    required: false,
    description:
      'Idempotency-Key: 1–255 printable ASCII characters without spaces; per user, kept 24 h. The same key and body get the first answer again.',
    example: 'order-42-shipped',
  })
  @ApiAcceptedResponse({
    type: SendAccepted,
    description: 'Stored (`pending`) and queued; or the first answer again for a repeated key.',
  })
  @ApiErrors(
    ...JSON_BODY_ERRORS,
    ErrorCode.Unauthorized,
    ErrorCode.Forbidden,
    ErrorCode.IdempotencyKeyInFlight,
    ErrorCode.WindowClosed,
    ErrorCode.RecipientOptedOut,
    ErrorCode.IdempotencyKeyReused,
    ErrorCode.RateLimited,
    ErrorCode.ServiceUnavailable,
  )
  async send(
    @Body() body: SendMessageDto,
    @CurrentUser() principal: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<SendAccepted> {
    const result = await this.messaging.send(principal, body, idempotencyKey);
    if (result.logFields) addRequestLogFields(reply.request, result.logFields);
    void reply.status(result.status);
    return result.body;
  }

  @Post('messages/:id/retry')
  @Roles('admin')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a failed message again (admin); takes no body' })
  @ApiParam({ name: 'id', format: 'uuid', description: "The message's id." })
  @ApiAcceptedResponse({
    type: MessageWithHistoryResponse,
    description: 'Back to `pending`, queued again.',
  })
  @ApiErrors(
    ErrorCode.Unauthorized,
    ErrorCode.Forbidden,
    ErrorCode.NotFound,
    ErrorCode.NotRetryable,
  )
  retry(@Param('id', UuidParamPipe) id: string): Promise<MessageResponse> {
    return this.messaging.retry(id);
  }
}
