import {
  Body,
  Controller,
  Header,
  Headers,
  HttpCode,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Public } from '../../common/http/public.decorator';
import { addRequestLogFields } from '../../common/http/request-log';
import type { FormFields } from './inbound-fields';
import { TwilioSignatureGuard } from './twilio-signature.guard';
import { EMPTY_TWIML } from './twiml';
import { WebhookReplay } from './webhook-replay';
import { WebhooksService } from './webhooks.service';

@Public()
@UseGuards(TwilioSignatureGuard)
@Controller('api/v1/whatsapp')
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly replay: WebhookReplay,
  ) {}

  @Post('webhook')
  @HttpCode(200)
  @Header('content-type', 'text/xml; charset=utf-8')
  async inbound(
    @Req() request: FastifyRequest,
    @Body() body: FormFields,
    @Headers('i-twilio-idempotency-token') token?: string,
  ): Promise<string> {
    await this.replay.once(request, async () => {
      addRequestLogFields(request, await this.webhooks.inboundMessage(body ?? {}, token ?? null));
    });
    return EMPTY_TWIML;
  }

  @Post('status')
  @HttpCode(200)
  @Header('content-type', 'text/xml; charset=utf-8')
  async status(
    @Req() request: FastifyRequest,
    @Body() body: FormFields,
    @Query('mid') mid?: string,
    @Headers('i-twilio-idempotency-token') token?: string,
  ): Promise<string> {
    await this.replay.once(request, async () => {
      const fields = await this.webhooks.statusCallback(
        body ?? {},
        typeof mid === 'string' ? mid : undefined,
        token ?? null,
      );
      addRequestLogFields(request, fields);
    });
    return EMPTY_TWIML;
  }
}
