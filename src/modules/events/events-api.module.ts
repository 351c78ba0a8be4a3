import { Module } from '@nestjs/common';
import { RateLimitModule } from '../../common/http/rate-limit.module';
import { EventsModule } from './events.module';
import { EventsController } from './feed/events.controller';
import {
  EventResendController,
  SubscriptionsController,
} from './subscriptions/subscriptions.controller';

/** The events routes (the feed, subscriptions, resend), loaded where the API runs. */
@Module({
  imports: [EventsModule, RateLimitModule],
  controllers: [EventsController, EventResendController, SubscriptionsController],
})
export class EventsApiModule {}
