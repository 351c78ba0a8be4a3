import { Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { ExecutionContext } from '@nestjs/common';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import type { AuthenticatedRequest } from '../auth/current-user.decorator';

/**
 * SEND_RATE_LIMIT per user per second on /send, counted in Redis for every replica, with
 * `RateLimit-Limit`/`-Remaining`/`-Reset` on every answer and `Retry-After` on a 429.
 */
@Injectable()
export class SendThrottlerGuard extends ThrottlerGuard {
  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    this.headerPrefix = 'RateLimit';
  }

  protected override getTracker(request: Record<string, unknown>): Promise<string> {
    const principal = (request as unknown as AuthenticatedRequest).principal;
    return Promise.resolve(principal ? `user:${principal.userId}` : `ip:${String(request.ip)}`);
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw new AppException(
      ErrorCode.RateLimited,
      `At most ${detail.limit} sends per second; slow down.`,
      undefined,
      {
        'retry-after': String(Math.max(1, detail.timeToBlockExpire)),
      },
    );
  }
}
