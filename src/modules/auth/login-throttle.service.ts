import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { clientAddressKey } from '../../common/http/client-address';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { REDIS_CLIENT } from '../../redis/redis.constants';
import { AuthException } from './auth.exception';

const WINDOW_MS = 60_000;

// Counts this attempt under every key and checks every limit in one atomic step: KEYS are the
// counters, ARGV[1] the window, ARGV[2..] each key's limit. Past any limit the attempt is taken
// back and refused: {0, ms until the longest window ends}; otherwise {1, 0}.
const TAKE = `
local over = false
local reset = 0
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then redis.call('PEXPIRE', key, ARGV[1]); ttl = tonumber(ARGV[1]) end
  if count > tonumber(ARGV[i + 1]) then
    over = true
    if ttl > reset then reset = ttl end
  end
end
if over then
  for _, key in ipairs(KEYS) do redis.call('DECR', key) end
  return {0, reset}
end
return {1, 0}`;

// A successful login gives its attempt back; never below zero, never reviving an expired key.
const REFUND = `
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count > 0 then redis.call('DECR', key) end
end
return 1`;

/**
 * Failed logins (and failed API-key exchanges) per client (IPv6 per /64) and per email, in
 * Redis so every replica shares them. Every attempt is counted and checked in one atomic step
 * *before* the password is checked — concurrent attempts cannot outrun the limit — and a
 * successful one is refunded, so only failures (and attempts still in flight) count. While
 * Redis is unreachable it fails open: an outage must not lock everyone out.
 */
@Injectable()
export class LoginThrottleService {
  private readonly logger = new Logger(LoginThrottleService.name);

  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Takes one attempt; throws 429 with Retry-After when the client or the email is over its limit. */
  async take(ip: string, email?: string): Promise<void> {
    const checks = this.keys(ip, email);
    let result: [number, number];
    try {
      result = (await this.redis.eval(
        TAKE,
        checks.length,
        ...checks.map(({ key }) => key),
        String(WINDOW_MS),
        ...checks.map(({ limit }) => String(limit)),
      )) as [number, number];
    } catch (error) {
      this.logger.warn(
        { reason: (error as Error).message },
        'Login throttle unavailable; allowing',
      );
      return;
    }
    const [allowed, resetMs] = result;
    if (allowed !== 1) {
      throw AuthException.tooManyAttempts(Math.max(1, Math.ceil(resetMs / 1000)));
    }
  }

  /** The attempt succeeded: it no longer counts. */
  async refund(ip: string, email?: string): Promise<void> {
    const keys = this.keys(ip, email).map(({ key }) => key);
    try {
      await this.redis.eval(REFUND, keys.length, ...keys);
    } catch (error) {
      this.logger.warn({ reason: (error as Error).message }, 'Login throttle unavailable');
    }
  }

  private keys(ip: string, email?: string): { key: string; limit: number }[] {
    const keys = [
      { key: `login-fail:ip:${clientAddressKey(ip)}`, limit: this.config.limits.loginPerIp },
    ];
    if (email !== undefined) {
      keys.push({ key: emailThrottleKey(email), limit: this.config.limits.loginPerEmail });
    }
    return keys;
  }
}

/**
 * The (unprefixed) Redis key counting an email's failed logins: hashed, so keys hold no
 * personal data. An operator lifts a lock-out by deleting it (README, "Auth").
 */
export function emailThrottleKey(email: string): string {
  const digest = createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32);
  return `login-fail:email:${digest}`;
}
