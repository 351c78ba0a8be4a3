import { Module } from '@nestjs/common';
import { TwilioModule } from '../twilio/twilio.module';
import { DeliveryModule } from './delivery.module';
import { ReconcileRepository } from './reconcile.repository';
import { ReconcilerService } from './reconciler.service';
import { RetentionRepository } from './retention.repository';
import { RetentionService } from './retention.service';

/** Delivery's background jobs, loaded by messaging's WorkerModule (worker and all roles). */
@Module({
  imports: [DeliveryModule, TwilioModule],
  providers: [ReconcileRepository, ReconcilerService, RetentionRepository, RetentionService],
})
export class DeliveryWorkerModule {}
