import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { DEPENDENCY_UP, DependencyMetricsService } from './dependency-metrics.service';
import { HealthDetailsGuard } from './health-details.guard';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { MigrationsHealthIndicator } from './migrations.health';
import { RedisHealthIndicator } from './redis.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [
    makeGaugeProvider({
      name: DEPENDENCY_UP,
      help: 'Whether a dependency answered at scrape time (1) or not (0).',
      labelNames: ['dependency'],
      inject: [DependencyMetricsService],
      async collect(this: Gauge, metrics: DependencyMetricsService) {
        for (const [dependency, up] of Object.entries(await metrics.read()))
          this.set({ dependency }, up);
      },
    }),
    DependencyMetricsService,
    HealthDetailsGuard,
    HealthService,
    MigrationsHealthIndicator,
    RedisHealthIndicator,
  ],
})
export class HealthModule {}
