import { Module } from '@nestjs/common';
import { RateLimitModule } from '../../common/http/rate-limit.module';
import { DeliveryModule } from '../delivery/delivery.module';
import { TwilioModule } from '../twilio/twilio.module';
import { makeCounterProvider, makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { DispatchService, SEND_ATTEMPTS } from './dispatch.service';
import { IdempotencyRepository } from './idempotency.repository';
import { MessagingService } from './messaging.service';
import { OutboundQueue, QUEUE_JOBS } from './outbound.queue';
import { SendThrottlerGuard } from './send-throttler.guard';

/**
 * POST /send and the admin retry, the send policy (the 24-hour window and opt-out checks, on
 * contacts delivery keeps), idempotency keys, the outbound queue's jobs (the outbox rows they
 * point at are delivery's: DeliveryService.createPending), one send attempt, the retry policy,
 * per-user and per-sender rate limits. Its routes are MessagingApiModule's (api roles); the
 * processor, the sweeper and the keys' expiry are MessagingWorkerModule's (worker roles).
 */
@Module({
  imports: [DeliveryModule, TwilioModule, RateLimitModule],
  providers: [
    makeCounterProvider({
      name: SEND_ATTEMPTS,
      help: 'Send attempts by result (ok, retry, failed) and Twilio error code.',
      labelNames: ['result', 'error_code'],
    }),
    makeGaugeProvider({
      name: QUEUE_JOBS,
      help: 'Outbound queue jobs by state (read from BullMQ at scrape time, cached 5 s).',
      labelNames: ['state'],
      inject: [OutboundQueue],
      async collect(this: Gauge<'state'>, queue: OutboundQueue) {
        this.reset();
        for (const [state, count] of Object.entries(await queue.jobCounts().catch(() => ({}))))
          this.set({ state }, count);
      },
    }),
    DispatchService,
    IdempotencyRepository,
    MessagingService,
    OutboundQueue,
    SendThrottlerGuard,
  ],
  exports: [DispatchService, IdempotencyRepository, MessagingService, OutboundQueue],
})
export class MessagingModule {}
