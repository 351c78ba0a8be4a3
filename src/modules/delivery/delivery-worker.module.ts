import { Module } from '@nestjs/common';
import { TwilioModule } from '../twilio/twilio.module';
import { DeliveryModule } from './delivery.module';
import { ReconcilerService } from './reconciler.service';
import { RetentionService } from './retention.service';

/** Delivery's background jobs, loaded by messaging's WorkerModule (worker and all roles). */
@Module({
  imports: [DeliveryModule, TwilioModule],
  providers: [ReconcilerService, RetentionService],
})
export class DeliveryWorkerModule {}
