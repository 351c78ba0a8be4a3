import { type DynamicModule, Global, Module } from '@nestjs/common';
import { makeHistogramProvider, PrometheusModule } from '@willsoto/nestjs-prometheus';
import { HttpMetricsService } from './http-metrics.service';
import { MetricsController } from './metrics.controller';
import { HTTP_REQUEST_DURATION } from './metrics.constants';
import { MetricsAuthGuard } from './metrics-auth.guard';

const providers = [
  makeHistogramProvider({
    name: HTTP_REQUEST_DURATION,
    help: 'HTTP request duration by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
  HttpMetricsService,
  MetricsAuthGuard,
];

@Global()
@Module({})
export class MetricsModule {
  // A method, not a static @Module, so default metrics are registered when the app is built
  // (the registry is process-wide; tests clear it between apps).
  static forRoot(): DynamicModule {
    return {
      module: MetricsModule,
      imports: [
        PrometheusModule.register({
          path: '/metrics',
          controller: MetricsController,
          defaultMetrics: { enabled: true },
        }),
      ],
      providers,
      exports: [HttpMetricsService],
    };
  }
}
