import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { withTimeout } from '../../common/with-timeout';
import { REDIS_CLIENT } from '../../redis/redis.constants';
import type { FormFields } from './inbound-fields';
import { webhookEndpointOf } from './twilio-signature.guard';
import { WebhookMetricsService } from './webhook-metrics.service';

/** How long a committed webhook is remembered; Twilio's retries come within minutes. */
export const REPLAY_TTL_MS = 10 * 60_000;
/** A slow Redis must not slow webhooks: past this the request goes on to the database. */
const LOOKUP_TIMEOUT_MS = 250;

/**
 * The replay guard, after the signature guard: a webhook whose I-Twilio-Idempotency-Token (or,
 * without one, whose exact signed event: URL and fields) was already committed answers 200 from
 * Redis without touching PostgreSQL. A key is written only after the handler committed the
 * event, so a retry after a 503 is still applied; Redis away or slow means the database
 * decides, as it always does in the end (its unique indexes are the durable dedup).
 * The controller calls it around its handler (not a Nest interceptor: the interceptor layer's
 * observables and async-resource bindings cost more per webhook than the look-up itself).
 */
@Injectable()
export class WebhookReplay {
  constructor(
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
    private readonly metrics: WebhookMetricsService,
  ) {}

  /**
   * Runs `handle` unless this webhook was already committed (then counts a duplicate and
   * returns); remembers it once `handle` has succeeded.
   */
  async once(request: FastifyRequest, handle: () => Promise<void>): Promise<void> {
    const endpoint = webhookEndpointOf(request);
    const key = replayKey(endpoint, request);
    if (await this.seen(key)) {
      this.metrics.count(endpoint, 'duplicate');
      return;
    }
    await handle();
    this.remember(key);
  }

  private seen(key: string): Promise<boolean> {
    return withTimeout(this.redis.exists(key), LOOKUP_TIMEOUT_MS).then(
      (count) => count > 0,
      () => false,
    );
  }

  private remember(key: string): void {
    this.redis.set(key, '1', 'PX', REPLAY_TTL_MS).catch(() => undefined);
  }
}

/** Hashed, so keys hold no personal data and stay short. */
export function replayKey(endpoint: string, request: FastifyRequest): string {
  const header = request.headers['i-twilio-idempotency-token'];
  const token = Array.isArray(header) ? header[0] : header;
  if (typeof token === 'string' && token !== '') {
    return `webhook-replay:${endpoint}:t:${digest(token)}`;
  }
  const fields = (request.body ?? {}) as FormFields;
  const event = JSON.stringify([
    request.url,
    Object.keys(fields)
      .sort()
      .map((name) => [name, fields[name]]),
  ]);
  return `webhook-replay:${endpoint}:e:${digest(event)}`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 32);
}
