import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from './config/app-config';
import { AppConfigModule } from './config/app-config.module';
import { DatabaseModule } from './database/database.module';
import { AuthModule } from './modules/auth/auth.module';
import { MessagingApiModule } from './modules/messaging/messaging-api.module';
import { WebhooksModule } from './modules/webhooks/webhooks.module';
import { DeliveryApiModule } from './modules/delivery/delivery-api.module';
import { EventsApiModule } from './modules/events/events-api.module';
import { DiagnosticsModule } from './modules/diagnostics/diagnostics.module';
import { HealthModule } from './modules/health/health.module';
import { MetricsModule } from './modules/metrics/metrics.module';
import { WorkerModule } from './worker.module';
import { RedisModule } from './redis/redis.module';

@Module({})
export class AppModule {
  /**
   * ROLE decides what runs (docs/architecture.md §1): `api` serves HTTP, `worker` runs the queue
   * processors and background jobs (WorkerModule), `all` both. Every role serves health and
   * /metrics on PORT. This is the one place that looks at ROLE to decide what is loaded.
   */
  static forRoot(config: AppConfig): DynamicModule {
    const api = config.role !== 'worker';
    const worker = config.role !== 'api';
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        DatabaseModule,
        RedisModule,
        MetricsModule.forRoot(),
        HealthModule,
        ...(api
          ? [AuthModule, DeliveryApiModule, EventsApiModule, MessagingApiModule, WebhooksModule]
          : []),
        ...(api && config.testErrorRoute ? [DiagnosticsModule] : []),
        ...(worker ? [WorkerModule] : []),
      ],
    };
  }
}
