import { Module } from '@nestjs/common';
import { makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { DeliveryModule } from '../delivery/delivery.module';
import { EventLogReader } from '../delivery/queries/event-log.reader';
import { DeliveriesRepository } from './dispatch/deliveries.repository';
import { EVENTS_RESOLVER } from './dispatch/event-dispatcher.service';
import { EventsFeedService } from './feed/events-feed.service';
import { SubscriptionsRepository } from './subscriptions/subscriptions.repository';
import { SubscriptionsService } from './subscriptions/subscriptions.service';

export const FEED_LAG = 'whatsapp_events_feed_lag_seconds';

/**
 * Events to client systems: the feed, subscriptions and their deliveries. It reads the event log
 * through what delivery exports; only delivery's writer writes it. Its routes are
 * EventsApiModule's, the dispatcher EventsWorkerModule's.
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
    // The system resolver; tests of the address checks give their own to the classes directly.
    { provide: EVENTS_RESOLVER, useValue: null },
    DeliveriesRepository,
    EventsFeedService,
    SubscriptionsRepository,
    SubscriptionsService,
  ],
  exports: [
    DeliveryModule,
    DeliveriesRepository,
    EVENTS_RESOLVER,
    EventsFeedService,
    SubscriptionsService,
  ],
})
export class EventsModule {}
