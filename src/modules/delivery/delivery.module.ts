import { Module } from '@nestjs/common';
import {
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
} from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { ContactsRepository } from './contacts/contacts.repository';
import { ContactsService } from './contacts/contacts.service';
import { DeliveryQueriesService } from './queries/delivery-queries.service';
import {
  DELIVERY_SECONDS,
  DeliveryMetricsService,
  MESSAGES_TOTAL,
  STATUS_EVENTS_TOTAL,
  STUCK,
} from './stats/delivery-metrics.service';
import { DeliveryService } from './delivery.service';
import { EventLogReader } from './queries/event-log.reader';
import { InboundBatcher } from './inbound/inbound-batcher';
import { InboundRepository } from './inbound/inbound.repository';
import { MessageQueriesRepository } from './queries/message-queries.repository';
import { MessageWriter } from './status/message-writer';
import { MessagesRepository } from './queries/messages.repository';
import { WorkerBatcher } from './outbox/worker-batcher';
import { OutboxRepository } from './outbox/outbox.repository';
import { StatusBatchRepository } from './status/status-batch.repository';
import { SendBatcher } from './outbox/send-batcher';
import { StatusEventBatcher } from './status/status-event-batcher';
import { CatchUpRepository } from './catch-up/catch-up.repository';
import { FaultWatchService } from './catch-up/fault-watch.service';
import { TwilioModule } from '../twilio/twilio.module';

/**
 * The status state machine and log, contacts, the read APIs and the delivery metrics; messaging
 * and webhooks apply events through it. Imported by the modules that use it; its routes are
 * DeliveryApiModule's (api roles), the reconciler and retention DeliveryWorkerModule's (worker
 * roles).
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
    makeGaugeProvider({
      name: STUCK,
      help: `Outbound messages not final (delivered, read, a failure, or sent over 72 h ago) and older than STUCK_AFTER.`,
      inject: [DeliveryMetricsService],
      async collect(this: Gauge, metrics: DeliveryMetricsService) {
        this.set(await metrics.stuck().catch(() => -1));
      },
    }),
    CatchUpRepository,
    ContactsRepository,
    ContactsService,
    DeliveryMetricsService,
    DeliveryQueriesService,
    DeliveryService,
    EventLogReader,
    FaultWatchService,
    InboundBatcher,
    InboundRepository,
    MessageQueriesRepository,
    MessageWriter,
    MessagesRepository,
    WorkerBatcher,
    OutboxRepository,
    SendBatcher,
    StatusBatchRepository,
    StatusEventBatcher,
  ],
  // DeliveryService is the one way to change a message; the rest is for delivery's own routes
  // (DeliveryApiModule) and reads.
  // DeliveryMetricsService is for the reconciler (DeliveryWorkerModule), EventLogReader for the
  // events module (the event log's rows, which only delivery's writer writes). FaultWatchService
  // runs in every role (the webhooks tell it when they shed); CatchUpRepository is for the
  // catch-up (DeliveryWorkerModule).
  exports: [
    CatchUpRepository,
    ContactsService,
    DeliveryMetricsService,
    DeliveryQueriesService,
    DeliveryService,
    EventLogReader,
    FaultWatchService,
  ],
})
export class DeliveryModule {}
