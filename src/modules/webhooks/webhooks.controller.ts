import {
  applyDecorators,
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
import {
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  type SchemaObject,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ErrorCode } from '../../common/errors/error-code';
import { ApiErrors } from '../../common/http/openapi';
import { Public } from '../../common/http/public.decorator';
import { addRequestLogFields } from '../../common/http/request-log';
import {
  EMPTY_TWIML_CONTENT,
  INBOUND_MESSAGE_FORM,
  STATUS_CALLBACK_FORM,
} from './dto/twilio-forms';
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
  @TwilioWebhook('Twilio: an inbound WhatsApp message', INBOUND_MESSAGE_FORM)
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
  @TwilioWebhook('Twilio: a status callback for one of our messages', STATUS_CALLBACK_FORM)
  @ApiQuery({
    name: 'mid',
    required: false,
    description: 'Our message id, from the StatusCallback URL each send passes.',
  })
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

/** A signed form in, empty TwiML out (docs/api.md §4.9); errors are JSON. */
function TwilioWebhook(summary: string, form: SchemaObject): MethodDecorator {
  return applyDecorators(
    ApiOperation({ summary }),
    ApiConsumes('application/x-www-form-urlencoded'),
    ApiBody({ schema: form }),
    ApiHeader({
      name: 'x-twilio-signature',
      required: true,
      description:
        "Twilio's signature over PUBLIC_BASE_URL + the path and query as received and every form field.",
    }),
    ApiHeader({
      name: 'i-twilio-idempotency-token',
      required: false,
      description: "Twilio's id of the event: a repeat within 10 minutes changes nothing.",
    }),
    ApiOkResponse({
      description: 'Committed (or already was): empty TwiML, no reply message.',
      content: EMPTY_TWIML_CONTENT,
    }),
    ApiErrors(
      ErrorCode.BadRequest,
      ErrorCode.ValidationFailed,
      ErrorCode.BadSignature,
      ErrorCode.PayloadTooLarge,
      ErrorCode.UnsupportedMediaType,
      ErrorCode.RateLimited,
      ErrorCode.ServiceUnavailable,
    ),
  );
}
