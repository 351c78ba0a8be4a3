import {
  Body,
  Controller,
  Header,
  Headers,
  HttpCode,
  Post,
  Query,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { Public } from '../../common/http/public.decorator';
import type { FormFields } from './inbound-fields';
import { TwilioSignatureGuard } from './twilio-signature.guard';
import { EMPTY_TWIML } from './twiml';
import { WebhookReplayInterceptor } from './webhook-replay.interceptor';
import { WebhooksService } from './webhooks.service';

@Public()
@UseGuards(TwilioSignatureGuard)
@UseInterceptors(WebhookReplayInterceptor)
@Controller('api/v1/whatsapp')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post('webhook')
  @HttpCode(200)
  @Header('content-type', 'text/xml; charset=utf-8')
  async inbound(
    @Body() body: FormFields,
    @Headers('i-twilio-idempotency-token') token?: string,
  ): Promise<string> {
    await this.webhooks.inboundMessage(body ?? {}, token ?? null);
    return EMPTY_TWIML;
  }

  @Post('status')
  @HttpCode(200)
  @Header('content-type', 'text/xml; charset=utf-8')
  async status(
    @Body() body: FormFields,
    @Query('mid') mid?: string,
    @Headers('i-twilio-idempotency-token') token?: string,
  ): Promise<string> {
    await this.webhooks.statusCallback(
      body ?? {},
      typeof mid === 'string' ? mid : undefined,
      token ?? null,
    );
    return EMPTY_TWIML;
  }
}
