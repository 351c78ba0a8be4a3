import { Injectable } from '@nestjs/common';
import { HealthService } from './health.service';

const CACHE_MS = 5_000;
export const DEPENDENCY_UP = 'whatsapp_dependency_up';

/**
 * The values of whatsapp_dependency_up{dependency} (1/0 at scrape time, cached 5 s), for alerts;
 * HealthModule's DEPENDENCY_UP gauge provider reads them.
 */
@Injectable()
export class DependencyMetricsService {
  private cache: { value: Record<string, number>; at: number } | undefined;

  constructor(private readonly health: HealthService) {}

  async read(): Promise<Record<string, number>> {
    if (this.cache && Date.now() - this.cache.at < CACHE_MS) return this.cache.value;
    const value = await this.health.dependencies();
    this.cache = { value, at: Date.now() };
    return value;
  }
}
