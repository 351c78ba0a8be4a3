import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { HealthService } from './health.service';

const CACHE_MS = 5_000;

/** whatsapp_dependency_up{dependency} (1/0 at scrape time, cached 5 s), for alerts. */
@Injectable()
export class DependencyMetricsService {
  private cache: { value: Record<string, number>; at: number } | undefined;

  constructor(private readonly health: HealthService) {
    const read = (): Promise<Record<string, number>> => this.read();
    new Gauge({
      name: 'whatsapp_dependency_up',
      help: 'Whether a dependency answered at scrape time (1) or not (0).',
      labelNames: ['dependency'],
      async collect() {
        for (const [dependency, up] of Object.entries(await read())) this.set({ dependency }, up);
      },
    });
  }

  private async read(): Promise<Record<string, number>> {
    if (this.cache && Date.now() - this.cache.at < CACHE_MS) return this.cache.value;
    const value = await this.health.dependencies();
    this.cache = { value, at: Date.now() };
    return value;
  }
}
