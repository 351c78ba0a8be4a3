import { Module } from '@nestjs/common';
import { makeCounterProvider } from '@willsoto/nestjs-prometheus';
import { DeliveryModule } from '../delivery/delivery.module';
import { TwilioModule } from '../twilio/twilio.module';
import { TwilioSignatureGuard } from './twilio-signature.guard';
import { WebhookReplay } from './webhook-replay';
import { WEBHOOK_REQUESTS, WebhookMetricsService } from './webhook-metrics.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** Twilio's inbound-message and status-callback webhooks: signed, deduplicated, persisted first. */
@Module({
  imports: [DeliveryModule, TwilioModule],
  controllers: [WebhooksController],
  providers: [
    makeCounterProvider({
      name: WEBHOOK_REQUESTS,
      help: 'Twilio webhook requests by endpoint and result.',
      labelNames: ['endpoint', 'result'],
    }),
    TwilioSignatureGuard,
    WebhookMetricsService,
    WebhookReplay,
    WebhooksService,
  ],
})
export class WebhooksModule {}
