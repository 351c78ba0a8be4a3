import type { ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-code';

/**
 * The base of our per-user limits (RateLimitModule's throttlers): each guard enforces one named
 * throttler, counted in Redis for every replica under `<name>:user:<id>` (one counter per user
 * across all the routes it guards, never shared with another limit), with `RateLimit-Limit`,
 * `-Remaining` and `-Reset` on every answer and 429 RATE_LIMITED + `Retry-After` past it.
 */
export abstract class RateLimitGuard extends ThrottlerGuard {
  /** The RateLimitModule throttler this guard enforces. */
  protected abstract readonly throttlerName: string;

  /** The 429's message for a limit of `limit` requests per window. */
  protected abstract limitMessage(limit: number): string;

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    this.headerPrefix = 'RateLimit';
    const own = this.throttlers.filter((throttler) => throttler.name === this.throttlerName);
    if (own.length === 0) throw new Error(`No "${this.throttlerName}" throttler is registered`);
    this.throttlers = own;
  }

  protected override getTracker(request: Record<string, unknown>): Promise<string> {
    // The global auth guard ran first; a route without a principal is limited per address.
    const principal = request.principal as { userId: string } | undefined;
    return Promise.resolve(principal ? `user:${principal.userId}` : `ip:${String(request.ip)}`);
  }

  protected override generateKey(
    _context: ExecutionContext,
    tracker: string,
    name: string,
  ): string {
    return `${name}:${tracker}`;
  }

  // @nestjs/throttler suffixes the headers of a named throttler (`RateLimit-Limit-read`); each
  // guard enforces one limit, so the headers keep the plain names clients expect.
  protected override setResponseHeader(
    response: Record<string, unknown>,
    name: string,
    value: string | number,
  ): void {
    const suffix = `-${this.throttlerName}`;
    super.setResponseHeader(
      response,
      name.endsWith(suffix) ? name.slice(0, -suffix.length) : name,
      value,
    );
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw new AppException(ErrorCode.RateLimited, this.limitMessage(detail.limit), undefined, {
      'retry-after': String(Math.max(1, detail.timeToBlockExpire)),
    });
  }
}
