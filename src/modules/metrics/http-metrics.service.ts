import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Histogram } from 'prom-client';
import { HTTP_REQUEST_DURATION, UNMATCHED_ROUTE } from './metrics.constants';

@Injectable()
export class HttpMetricsService {
  constructor(
    @InjectMetric(HTTP_REQUEST_DURATION)
    private readonly duration: Histogram<'method' | 'route' | 'status'>,
  ) {}

  /** `route` is the route pattern (`/api/v1/x/:id`), never the raw URL. */
  observe(method: string, route: string | undefined, status: number, seconds: number): void {
    this.duration.observe(
      { method, route: route ?? UNMATCHED_ROUTE, status: String(status) },
      seconds,
    );
  }
}
