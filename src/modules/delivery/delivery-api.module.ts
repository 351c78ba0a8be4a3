import { Module } from '@nestjs/common';
import { ListenQueue } from '../../common/http/listen-queue';
import { RateLimitModule } from '../../common/http/rate-limit.module';
import { ContactsController } from './contacts/contacts.controller';
import { DeliveryController } from './queries/delivery.controller';
import { DeliveryModule } from './delivery.module';
import { CallbackPressureReporter } from './stats/callback-pressure.reporter';

/**
 * The delivery routes (status, list, metrics, contacts) and the callback path's report to the
 * send budget, loaded where the API runs (callbacks arrive there).
 */
@Module({
  imports: [DeliveryModule, RateLimitModule],
  controllers: [DeliveryController, ContactsController],
  providers: [CallbackPressureReporter, ListenQueue],
})
export class DeliveryApiModule {}
