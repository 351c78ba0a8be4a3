import { Module } from '@nestjs/common';
import { RateLimitModule } from '../../common/http/rate-limit.module';
import { MessagingController } from './messaging.controller';
import { MessagingModule } from './messaging.module';

/** POST /send and the admin retry, loaded where the API runs (api and all roles). */
@Module({
  imports: [MessagingModule, RateLimitModule],
  controllers: [MessagingController],
})
export class MessagingApiModule {}
