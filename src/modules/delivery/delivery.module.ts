import { Module } from '@nestjs/common';
import { makeCounterProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import { ContactsRepository } from './contacts.repository';
import { ContactsService } from './contacts.service';
import { DeliveryQueriesService } from './delivery-queries.service';
import {
  DELIVERY_SECONDS,
  DeliveryMetricsService,
  MESSAGES_TOTAL,
  STATUS_EVENTS_TOTAL,
} from './delivery-metrics.service';
import { DeliveryService } from './delivery.service';
import { InboundRepository } from './inbound.repository';
import { MessageEventsRepository } from './message-events.repository';
import { MessageQueriesRepository } from './message-queries.repository';
import { MessagesRepository } from './messages.repository';
import { ReconcilerService } from './reconciler.service';
import { RetentionService } from './retention.service';
import { TwilioModule } from '../twilio/twilio.module';

/**
 * The status state machine and log, contacts, the read APIs and the delivery metrics; messaging
 * and webhooks apply events through it. Imported once by the app (with its routes where the API
 * runs, DeliveryApiModule) and by the modules that use it.
 */
@Module({
  imports: [TwilioModule],
  providers: [
    makeCounterProvider({
      name: MESSAGES_TOTAL,
      help: 'Messages reaching a status, by direction and status.',
      labelNames: ['direction', 'status'],
    }),
    makeCounterProvider({
      name: STATUS_EVENTS_TOTAL,
      help: 'Distinct status events, by status and whether they moved the message.',
      labelNames: ['status', 'applied'],
    }),
    makeHistogramProvider({
      name: DELIVERY_SECONDS,
      help: 'Time between delivery stages.',
      labelNames: ['stage'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400],
    }),
    ContactsRepository,
    ContactsService,
    DeliveryMetricsService,
    DeliveryQueriesService,
    DeliveryService,
    InboundRepository,
    MessageEventsRepository,
    MessageQueriesRepository,
    MessagesRepository,
    ReconcilerService,
    RetentionService,
  ],
  exports: [
    ContactsRepository,
    ContactsService,
    DeliveryMetricsService,
    DeliveryQueriesService,
    DeliveryService,
    InboundRepository,
    MessagesRepository,
  ],
})
export class DeliveryModule {}
