import { Module } from '@nestjs/common';
import { DeliveryWorkerModule } from './modules/delivery/delivery-worker.module';
import { EventsWorkerModule } from './modules/events/events-worker.module';
import { MessagingWorkerModule } from './modules/messaging/messaging-worker.module';

/**
 * What the worker roles (`worker`, `all`) run and the api role does not: messaging's outbound
 * processor, sweeper and idempotency-key expiry (MessagingWorkerModule), delivery's reconciler
 * and retention (DeliveryWorkerModule), the events dispatcher (EventsWorkerModule). AppModule imports it for those roles only, so no
 * provider checks ROLE.
 */
@Module({ imports: [MessagingWorkerModule, DeliveryWorkerModule, EventsWorkerModule] })
export class WorkerModule {}
