import { Body, Controller, Headers, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { addRequestLogFields } from '../../common/http/request-log';
import { UuidParamPipe } from '../../common/http/uuid-param.pipe';
import type { Principal } from '../auth/auth.types';
import { CurrentUser } from '../auth/current-user.decorator';
import { Roles } from '../auth/roles.decorator';
import type { MessageResponse } from '../delivery/queries/dto/message.response';
import { SendMessageDto, type SendAccepted } from './dto/send-message.dto';
import { MessagingService } from './messaging.service';
import { SendThrottlerGuard } from './send-throttler.guard';

@Controller('api/v1/whatsapp')
export class MessagingController {
  constructor(private readonly messaging: MessagingService) {}

  @Post('send')
  @HttpCode(202)
  @Roles('sender', 'admin')
  @UseGuards(SendThrottlerGuard)
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
  retry(@Param('id', UuidParamPipe) id: string): Promise<MessageResponse> {
    return this.messaging.retry(id);
  }
}
