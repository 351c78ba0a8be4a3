import { Module } from '@nestjs/common';
import { TwilioModule } from '../twilio/twilio.module';
import { CatchUpService } from './catch-up/catch-up.service';
import { DeliveryModule } from './delivery.module';
import { FetchSlots } from './reconcile/fetch-slots';
import { ReconcileRepository } from './reconcile/reconcile.repository';
import { ReconcilerService } from './reconcile/reconciler.service';
import { RetentionRepository } from './reconcile/retention.repository';
import { RetentionService } from './reconcile/retention.service';

/** Delivery's background jobs (reconciler, catch-up, retention), loaded by the composition root's WorkerModule (worker and all roles). */
@Module({
  imports: [DeliveryModule, TwilioModule],
  providers: [
    CatchUpService,
    FetchSlots,
    ReconcileRepository,
    ReconcilerService,
    RetentionRepository,
    RetentionService,
  ],
})
export class DeliveryWorkerModule {}
