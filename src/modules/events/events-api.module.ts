import { Module } from '@nestjs/common';
import { RateLimitModule } from '../../common/http/rate-limit.module';
import { EventsModule } from './events.module';
import { EventsController } from './feed/events.controller';

/** The events routes, loaded where the API runs. */
@Module({
  imports: [EventsModule, RateLimitModule],
  controllers: [EventsController],
})
export class EventsApiModule {}
