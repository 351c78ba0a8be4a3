import { Module } from '@nestjs/common';
import { makeCounterProvider, makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { DeliveriesRepository } from './dispatch/deliveries.repository';
import {
  DELIVERIES_TOTAL,
  EventDispatcher,
  SUBSCRIPTIONS_DISABLED_TOTAL,
} from './dispatch/event-dispatcher.service';
import { EventDeliveriesRetention } from './dispatch/event-deliveries-retention.service';
import { EventsModule } from './events.module';

export const OLDEST_PENDING = 'whatsapp_events_oldest_pending_seconds';

/** The events dispatcher and its retention, loaded where the worker runs. */
@Module({
  imports: [EventsModule],
  providers: [
    makeCounterProvider({
      name: DELIVERIES_TOTAL,
      help: 'Event delivery attempts by verdict (succeeded, retry, failed for good, gone = 410, stale = no longer ours).',
      labelNames: ['result'],
    }),
    makeCounterProvider({
      name: SUBSCRIPTIONS_DISABLED_TOTAL,
      help: 'Event subscriptions the dispatcher disabled, by reason (gone = 410, failing = no success for EVENTS_DISABLE_AFTER).',
      labelNames: ['reason'],
    }),
    makeGaugeProvider({
      name: OLDEST_PENDING,
      help: 'Seconds the oldest undelivered event of an enabled subscription has waited; -1 when the read fails.',
      inject: [DeliveriesRepository],
      async collect(this: Gauge, deliveries: DeliveriesRepository) {
        this.set(await deliveries.oldestPendingSeconds().catch(() => -1));
      },
    }),
    EventDispatcher,
    EventDeliveriesRetention,
  ],
  exports: [EventDispatcher],
})
export class EventsWorkerModule {}
