import { Injectable } from '@nestjs/common';
import { Throttler } from '../../common/http/rate-limit.constants';
import { RateLimitGuard } from '../../common/http/rate-limit.guard';

/** SEND_RATE_LIMIT per user per second on /send (RateLimitGuard: Redis, headers, 429). */
@Injectable()
export class SendThrottlerGuard extends RateLimitGuard {
  protected readonly throttlerName = Throttler.Send;

  protected limitMessage(limit: number): string {
    return `At most ${limit} sends per second; slow down.`;
  }
}
