import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import type { QueueOptions } from 'bullmq';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { QueueName } from '../../queue/queue.constants';
import { WorkerConnection, WorkerConnectionModule } from '../../queue/worker-connection';
import { DeliveryModule } from '../delivery/delivery.module';
import { IdempotencyExpiryService } from './idempotency-expiry.service';
import { MessagingModule } from './messaging.module';
import { OutboundProcessor } from './outbound.processor';
import { SweeperService } from './sweeper.service';
import { makeCounterProvider } from '@willsoto/nestjs-prometheus';
import { SEND_PACED_SECONDS, SendBudget } from './budget/send-budget';

/**
 * Messaging's part of the worker roles (`worker`, `all`): BullMQ with the outbound processor and
 * the send budget it draws from, the sweeper and the expiry of idempotency keys. Loaded by the composition root's WorkerModule
 * (src/worker.module.ts) for those roles only, so no provider checks ROLE.
 */
@Module({
  imports: [
    // What every registered queue and its processor get: the worker connection (it waits for
    // Redis; the producer, OutboundQueue, has its own that fails fast) and the queue prefix.
    BullModule.forRootAsync({
      imports: [WorkerConnectionModule],
      inject: [APP_CONFIG, WorkerConnection],
      useFactory: (config: AppConfig, connection: WorkerConnection): QueueOptions => ({
        connection: connection.client,
        prefix: config.redis.queuePrefix,
      }),
    }),
    // Registered so that @nestjs/bullmq starts OutboundProcessor on that connection; jobs are
    // added by OutboundQueue, in every role.
    BullModule.registerQueue({ name: QueueName.Outbound }),
    DeliveryModule,
    MessagingModule,
    WorkerConnectionModule,
  ],
  providers: [
    makeCounterProvider({
      name: SEND_PACED_SECONDS,
      help: 'Seconds sends waited for the send budget: reason="mps" for the sender rate (TWILIO_MPS), "callbacks" while the api fleet’s callback path was behind.',
      labelNames: ['reason'],
    }),
    IdempotencyExpiryService,
    OutboundProcessor,
    SendBudget,
    SweeperService,
  ],
})
export class MessagingWorkerModule {}
