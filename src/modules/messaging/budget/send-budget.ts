import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.constants';
import { CallbackPressureBoard } from '../../../redis/callback-pressure';
import { REDIS_CLIENT } from '../../../redis/redis.constants';
import { callbacksBehind, reserve } from './send-pacing';

export const SEND_PACED_SECONDS = 'whatsapp_send_paced_seconds_total';

/** How far ahead a slot may be reserved: past it the caller waits and asks again. */
const HORIZON_MS = 2_000;
/** While the callback path is behind, sends look again this often. */
const HOLD_STEP_MS = 100;
/** How long a read of the callback reports is reused. */
const PRESSURE_CACHE_MS = 100;

// One sender's slot, reserved atomically on Redis's clock (the same arithmetic as reserve() in
// send-pacing.ts, in microseconds): KEYS[1] the sender's next free slot, KEYS[2] its back-off
// (set when Twilio answered 429/63018). Both keys carry the sender's hash tag. Answers
// {waitMs, kind}: kind 2 = reserved (send after waitMs), 0 = beyond the horizon (wait, ask
// again), 1 = the sender is backing off (wait, ask again).
const RESERVE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return {pause, 1} end
if tonumber(ARGV[1]) <= 0 then return {0, 2} end
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(nextFree, now)
local wait = slot - now
local horizon = tonumber(ARGV[2]) * 1000
if wait > horizon then return {math.ceil((wait - horizon) / 1000), 0} end
local after = slot + math.floor(1000000 / tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%.0f', after), 'PX', math.ceil(wait / 1000) + 60000)
return {math.ceil(wait / 1000), 2}`;

/**
 * The one send budget every path that creates messages at Twilio draws from (docs/architecture.md
 * §4.5): before a create, `take(sender)` waits (1) while the api fleet's callback path is
 * behind — each message brings two to four status callbacks Twilio does not resend, so sends
 * never outrun what the api processes commit — and (2) for the sender's next slot at
 * `TWILIO_MPS`, reserved in Redis so every worker replica shares it, and longer while the sender
 * is backing off after Twilio's 429/63018. Time spent waiting is counted in
 * `whatsapp_send_paced_seconds_total{reason="callbacks"|"mps"}`.
 *
 * Lanes (the campaigns' share of a sender) come as more keys under the same sender's hash tag,
 * decided in the same script, so a lane never needs a second round trip.
 *
 * Redis unreachable: the worker cannot take jobs either (BullMQ lives there), so the few jobs in
 * hand are paced by this process alone, at `TWILIO_MPS`.
 */
@Injectable()
export class SendBudget {
  private readonly logger = new Logger(SendBudget.name);
  private pressureReadAt = 0;
  private behind = false;
  private pressureRead: Promise<void> | undefined;
  /** This process's own slot per sender, while Redis cannot be asked. */
  private readonly localNextFree = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly board: CallbackPressureBoard,
    @InjectMetric(SEND_PACED_SECONDS) private readonly paced: Counter<'reason'>,
  ) {
    for (const reason of ['mps', 'callbacks']) paced.inc({ reason }, 0);
  }

  /** The sender every message of this deployment goes from (the configured number or service). */
  defaultSender(): string {
    return this.config.twilio.whatsappFrom ?? this.config.twilio.messagingServiceSid ?? 'default';
  }

  /** Waits until one message may be created at Twilio for `sender`. */
  async take(sender: string): Promise<void> {
    await this.holdForCallbacks();
    // TWILIO_MPS=0: no spacing, but a back-off after Twilio's 429 still holds.
    const perSecond = this.config.limits.twilioMps;
    let waitedMs = 0;
    for (;;) {
      const { waitMs, reserved } = await this.reserve(sender, perSecond);
      if (waitMs > 0) {
        await sleep(waitMs);
        waitedMs += waitMs;
      }
      if (reserved) break;
    }
    if (waitedMs > 0) this.paced.inc({ reason: 'mps' }, waitedMs / 1000);
  }

  /** Twilio said this sender is over its limit (429, 63018): every replica pauses it `ms`. */
  async backOff(sender: string, ms: number): Promise<void> {
    await this.redis
      .set(this.key(sender, 'backoff'), '1', 'PX', Math.max(1, Math.ceil(ms)))
      .catch((error: Error) =>
        this.logger.warn({ reason: error.message }, 'Could not record a sender back-off'),
      );
  }

  private async reserve(
    sender: string,
    perSecond: number,
  ): Promise<{ waitMs: number; reserved: boolean }> {
    try {
      const [waitMs, kind] = (await this.redis.eval(
        RESERVE,
        2,
        this.key(sender, 'next'),
        this.key(sender, 'backoff'),
        String(perSecond),
        String(HORIZON_MS),
      )) as [number, number];
      return { waitMs, reserved: kind === 2 };
    } catch {
      if (perSecond <= 0) return { waitMs: 0, reserved: true };
      const now = Date.now();
      const local = reserve(this.localNextFree.get(sender) ?? 0, now, perSecond, HORIZON_MS);
      this.localNextFree.set(sender, local.nextFreeAt);
      return { waitMs: local.waitMs, reserved: local.reserved };
    }
  }

  /** Waits while the callback path is behind (a cached read of the api processes' reports). */
  private async holdForCallbacks(): Promise<void> {
    let heldMs = 0;
    for (;;) {
      await this.refreshPressure();
      if (!this.behind) break;
      await sleep(HOLD_STEP_MS);
      heldMs += HOLD_STEP_MS;
    }
    if (heldMs > 0) this.paced.inc({ reason: 'callbacks' }, heldMs / 1000);
  }

  private refreshPressure(): Promise<void> {
    if (Date.now() - this.pressureReadAt < PRESSURE_CACHE_MS) return Promise.resolve();
    this.pressureRead ??= this.board
      .read()
      .then((reports) => {
        this.behind = callbacksBehind(reports, Date.now());
      })
      .catch(() => {
        // No reports to be had: nothing says the callback path is behind.
        this.behind = false;
      })
      .finally(() => {
        this.pressureReadAt = Date.now();
        this.pressureRead = undefined;
      });
    return this.pressureRead;
  }

  /** `{send-budget:<sender>}:<name>`: one hash tag per sender, so RESERVE runs on Redis Cluster. */
  private key(sender: string, name: string): string {
    return `{send-budget:${sender}}:${name}`;
  }
}
