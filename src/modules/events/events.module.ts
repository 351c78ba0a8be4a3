import { Module } from '@nestjs/common';
import { makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { DeliveryModule } from '../delivery/delivery.module';
import { EventLogReader } from '../delivery/queries/event-log.reader';
import { EventsFeedService } from './feed/events-feed.service';

export const FEED_LAG = 'whatsapp_events_feed_lag_seconds';

/**
 * Events to client systems: the feed now (subscriptions and signed deliveries come next). It
 * reads the event log through what delivery exports; only delivery's writer writes it.
 */
@Module({
  imports: [DeliveryModule],
  providers: [
    makeGaugeProvider({
      name: FEED_LAG,
      help: 'Seconds the oldest committed event has waited for the feed (held back by a transaction still open); -1 when the read fails.',
      inject: [EventLogReader],
      async collect(this: Gauge, log: EventLogReader) {
        this.set(await log.lagSeconds().catch(() => -1));
      },
    }),
    EventsFeedService,
  ],
  exports: [EventsFeedService],
})
export class EventsModule {}
