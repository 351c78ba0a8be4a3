import { Module } from '@nestjs/common';
import { RateLimitModule } from '../../common/http/rate-limit.module';
import { ContactsController } from './contacts/contacts.controller';
import { DeliveryController } from './queries/delivery.controller';
import { DeliveryModule } from './delivery.module';

/** The delivery routes (status, list, metrics, contacts), loaded where the API runs. */
@Module({
  imports: [DeliveryModule, RateLimitModule],
  controllers: [DeliveryController, ContactsController],
})
export class DeliveryApiModule {}
