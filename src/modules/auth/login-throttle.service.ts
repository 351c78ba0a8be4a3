import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { FixedWindowCounter } from '../../redis/fixed-window-counter';
import { REDIS_CLIENT } from '../../redis/redis.constants';
import { AuthException } from './auth.exception';

const WINDOW_MS = 60_000;

/**
 * Counts failed logins (and failed API-key exchanges) per client IP and per email in Redis, so
 * every replica shares them; successful attempts do not count. While Redis is unreachable the
 * check fails open: an outage must not lock everyone out.
 */
@Injectable()
export class LoginThrottleService {
  private readonly logger = new Logger(LoginThrottleService.name);
  private readonly counter: FixedWindowCounter;

  constructor(
    @Inject(REDIS_CLIENT) redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.counter = new FixedWindowCounter(redis);
  }

  /** Throws 429 with Retry-After when the IP or the email is over its limit. */
  async assertAllowed(ip: string, email?: string): Promise<void> {
    const checks = this.keys(ip, email);
    try {
      const counts = await Promise.all(checks.map(({ key }) => this.counter.peek(key)));
      const blocked = counts
        .map((count, index) => ({ ...count, limit: checks[index].limit }))
        .filter((count) => count.count >= count.limit);
      if (blocked.length > 0) {
        const resetMs = Math.max(...blocked.map((count) => count.resetMs));
        throw AuthException.tooManyAttempts(Math.max(1, Math.ceil(resetMs / 1000)));
      }
    } catch (error) {
      if (error instanceof AuthException) throw error;
      this.logger.warn(
        { reason: (error as Error).message },
        'Login throttle unavailable; allowing',
      );
    }
  }

  async recordFailure(ip: string, email?: string): Promise<void> {
    try {
      await Promise.all(
        this.keys(ip, email).map(({ key }) => this.counter.increment(key, WINDOW_MS)),
      );
    } catch (error) {
      this.logger.warn(
        { reason: (error as Error).message },
        'Login throttle unavailable; not counted',
      );
    }
  }

  private keys(ip: string, email?: string): { key: string; limit: number }[] {
    const keys = [{ key: `login-fail:ip:${ip}`, limit: this.config.limits.loginPerIp }];
    if (email !== undefined) {
      // Hashed: keys must not hold personal data.
      const digest = createHash('sha256').update(email.toLowerCase()).digest('hex').slice(0, 32);
      keys.push({ key: `login-fail:email:${digest}`, limit: this.config.limits.loginPerEmail });
    }
    return keys;
  }
}
