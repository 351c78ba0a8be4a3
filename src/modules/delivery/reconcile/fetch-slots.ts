import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { REDIS_CLIENT } from '../../../redis/redis.constants';
import { TWILIO_API_TIMEOUT_MS } from '../../twilio/twilio.types';

/** Twilio fetches in flight at once, across every worker replica. */
export const FETCH_SLOTS = 8;
/** A slot whose holder died frees itself after this long (a fetch's timeout and a margin). */
const SLOT_TTL_MS = TWILIO_API_TIMEOUT_MS + 5_000;
/** How often a caller that found every slot taken asks again. */
const RETRY_MS = 25;
/** Back-off after Twilio's 20429 without a Retry-After: doubling from this, up to the cap. */
const BACKOFF_MIN_MS = 2_000;
const BACKOFF_MAX_MS = 60_000;

// KEYS[1] the slots (a sorted set: holder → expiry), KEYS[2] the back-off; one hash tag. On
// Redis's clock. Answers 0 = slot taken, -1 = all taken (ask again), > 0 = backing off that
// many ms.
const ACQUIRE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return pause end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return -1 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 0`;

/**
 * The reconciler's Twilio fetches: at most FETCH_SLOTS in flight across every worker replica (a
 * semaphore in Redis whose slots expire, so a replica that died mid-fetch frees its own), and
 * none while Twilio's 20429 back-off runs (shared, so every replica backs off together). Fetches
 * are not message creations: TWILIO_MPS does not apply. Redis unreachable: this replica keeps
 * to FETCH_SLOTS on its own.
 */
@Injectable()
export class FetchSlots {
  private local = 0;
  private backoffMs = 0;
  /** When Redis cannot hold the back-off, this replica keeps it. */
  private localPauseUntil = 0;

  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  /** Runs `fetch` in a slot, waiting for one first. */
  async run<T>(fetch: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fetch();
    } finally {
      await release();
    }
  }

  /** Twilio answered 20429: every replica waits `retryAfterMs`, or a doubling back-off. */
  async backOff(retryAfterMs?: number): Promise<void> {
    this.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.backoffMs * 2));
    const ms = retryAfterMs ?? this.backoffMs;
    this.localPauseUntil = Date.now() + ms;
    await this.redis
      .set('{reconcile}:fetch-backoff', '1', 'PX', Math.max(1, ms))
      .catch(() => undefined);
  }

  /** A fetch was answered: the back-off starts from its minimum again next time. */
  answered(): void {
    this.backoffMs = 0;
  }

  private async acquire(): Promise<() => Promise<void>> {
    const holder = randomUUID();
    for (;;) {
      let answer: number;
      try {
        answer = (await this.redis.eval(
          ACQUIRE,
          2,
          '{reconcile}:fetches',
          '{reconcile}:fetch-backoff',
          String(FETCH_SLOTS),
          String(SLOT_TTL_MS),
          holder,
        )) as number;
      } catch {
        const paused = this.localPauseUntil - Date.now();
        if (paused > 0) {
          await sleep(paused);
          continue;
        }
        if (this.local < FETCH_SLOTS) {
          this.local += 1;
          return () => {
            this.local -= 1;
            return Promise.resolve();
          };
        }
        answer = -1;
      }
      if (answer === 0) {
        return async () => {
          await this.redis.zrem('{reconcile}:fetches', holder).catch(() => undefined);
        };
      }
      await sleep(answer > 0 ? answer : RETRY_MS);
    }
  }
}
