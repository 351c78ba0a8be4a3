import { Injectable } from '@nestjs/common';
import { Throttler } from './rate-limit.constants';
import { RateLimitGuard } from './rate-limit.guard';

/**
 * READ_RATE_LIMIT per user per second over every API read route together (delivery status,
 * messages, metrics, contacts, users, API keys); probes, /metrics and docs are not limited.
 */
@Injectable()
export class ReadThrottlerGuard extends RateLimitGuard {
  protected readonly throttlerName = Throttler.Read;

  protected limitMessage(limit: number): string {
    return `At most ${limit} read requests per second; slow down.`;
  }
}
