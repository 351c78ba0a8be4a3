import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DependencyMetricsService } from './dependency-metrics.service';
import { HealthDetailsGuard } from './health-details.guard';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { MigrationsHealthIndicator } from './migrations.health';
import { RedisHealthIndicator } from './redis.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [
    DependencyMetricsService,
    HealthDetailsGuard,
    HealthService,
    MigrationsHealthIndicator,
    RedisHealthIndicator,
  ],
})
export class HealthModule {}
