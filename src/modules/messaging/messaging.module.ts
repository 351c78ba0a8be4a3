import { type DynamicModule, Module } from '@nestjs/common';
import { RateLimitModule } from '../../common/http/rate-limit.module';
import { DeliveryModule } from '../delivery/delivery.module';
import { TwilioModule } from '../twilio/twilio.module';
import { makeCounterProvider } from '@willsoto/nestjs-prometheus';
import { DispatchService, SEND_ATTEMPTS } from './dispatch.service';
import { IdempotencyRepository } from './idempotency.repository';
import { MessagingController } from './messaging.controller';
import { MessagingService } from './messaging.service';
import { OutboundQueue } from './outbound.queue';
import { OutboundWorker } from './outbound.worker';
import { OutboxRepository } from './outbox.repository';
import { SendThrottlerGuard } from './send-throttler.guard';
import { SweeperService } from './sweeper.service';

/**
 * POST /send, the outbox, the outbound queue and its processor, the sweeper, the retry policy,
 * per-user and per-sender rate limits, and the 24-hour window and opt-out checks. The worker
 * parts start only in the worker and all roles.
 */
@Module({
  imports: [DeliveryModule, TwilioModule, RateLimitModule],
  providers: [
    makeCounterProvider({
      name: SEND_ATTEMPTS,
      help: 'Send attempts by result (ok, retry, failed) and Twilio error code.',
      labelNames: ['result', 'error_code'],
    }),
    DispatchService,
    IdempotencyRepository,
    MessagingService,
    OutboundQueue,
    OutboundWorker,
    OutboxRepository,
    SendThrottlerGuard,
    SweeperService,
  ],
})
export class MessagingModule {
  /** The HTTP routes only where the API runs. */
  static forRole(serveHttp: boolean): DynamicModule {
    return { module: MessagingModule, controllers: serveHttp ? [MessagingController] : [] };
  }
}
