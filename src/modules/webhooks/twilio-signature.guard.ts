import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { clientAddressKey } from '../../common/http/client-address';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { FixedWindowCounter } from '../../redis/fixed-window-counter';
import { REDIS_CLIENT } from '../../redis/redis.constants';
import { TwilioSignatureValidator } from '../twilio/twilio-signature.validator';
import type { FormFields } from './inbound-fields';
import { effectiveSignatureMode } from './signature-mode';
import { signedUrlFor } from './signed-url';
import { WebhookMetricsService, type WebhookEndpoint } from './webhook-metrics.service';

const UNSIGNED_WINDOW_MS = 60_000;
/** Clients this replica knows to be over the unsigned limit; bounded so a spray cannot grow it. */
const MAX_KNOWN_FLOODERS = 10_000;

/**
 * Twilio's signature over PUBLIC_BASE_URL + the path and query as received (never the internal
 * host, scheme or port) and every form field. Valid traffic is never throttled (Twilio does not
 * retry a 429); requests failing the check are counted per client (IPv6 per /64) and get 429
 * past WEBHOOK_UNSIGNED_LIMIT a minute. Guards run in cost order: size, field count and content
 * type were checked before the body was parsed (input-limits.ts); a client already over the
 * limit gets one HMAC per token (the current one, the previous one during a rotation) over the
 * URL as received before its 429, so a flood costs one or two HMACs a request; everyone else,
 * and a flooder whose window has ended, gets the full check (URL variants, previous token).
 * SIGNATURE_MODE=report counts and logs failures but lets them through until
 * SIGNATURE_REPORT_UNTIL.
 */
@Injectable()
export class TwilioSignatureGuard implements CanActivate {
  private readonly logger = new Logger(TwilioSignatureGuard.name);
  private readonly counter: FixedWindowCounter;
  /** client key → when its unsigned window ends (ms since epoch). */
  private readonly flooding = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS_CLIENT) redis: Redis,
    private readonly validator: TwilioSignatureValidator,
    private readonly metrics: WebhookMetricsService,
  ) {
    this.counter = new FixedWindowCounter(redis);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const endpoint = webhookEndpointOf(request);
    const fields = stringFields(isFormFields(request.body) ? request.body : {});
    const header = request.headers['x-twilio-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    const url = signedUrlFor(this.config.publicBaseUrl, request.url);
    const client = clientAddressKey(request.ip);
    const enforcing = effectiveSignatureMode(this.config, new Date(Date.now())) === 'enforce';

    let counted = false;
    if (enforcing && this.isFlooding(client)) {
      if (this.validator.checkOnce(signature, url, fields)) return true;
      this.metrics.count(endpoint, 'bad_signature');
      // Still over the limit: 429. Otherwise (the window just ended, Redis is away) the request
      // gets the full check like anyone's, so a real callback is never refused for its company.
      await this.throttle(endpoint, client);
      counted = true;
    }

    const check = this.validator.check(signature, url, fields);
    if (check === 'valid') return true;
    if (check === 'valid-previous-token') {
      this.logger.log(
        { endpoint },
        'Webhook signed with TWILIO_AUTH_TOKEN_PREVIOUS (rotation under way)',
      );
      return true;
    }
    if (!counted) this.metrics.count(endpoint, 'bad_signature');
    this.logger.warn(
      { endpoint, reason: `${check} signature`, client, url },
      'Webhook failed the signature check',
    );
    if (!enforcing) return true;
    if (!counted) await this.throttle(endpoint, client);
    throw forbidden();
  }

  private isFlooding(client: string): boolean {
    const until = this.flooding.get(client);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.flooding.delete(client);
    return false;
  }

  /** Counts one failure; throws 429 past the limit and remembers the client until the window ends. */
  private async throttle(endpoint: WebhookEndpoint, client: string): Promise<void> {
    let count: number;
    let resetMs: number;
    try {
      ({ count, resetMs } = await this.counter.increment(
        `webhook-unsigned:${client}`,
        UNSIGNED_WINDOW_MS,
      ));
    } catch {
      return; // Redis away: fail open, the 403 still stands
    }
    if (count <= this.config.limits.webhookUnsignedPerIp) {
      this.flooding.delete(client);
      return;
    }
    this.remember(client, Date.now() + resetMs);
    this.metrics.count(endpoint, 'throttled');
    throw new AppException(
      ErrorCode.RateLimited,
      'Too many unsigned webhook requests.',
      undefined,
      { 'retry-after': String(Math.max(1, Math.ceil(resetMs / 1000))) },
    );
  }

  private remember(client: string, until: number): void {
    if (!this.flooding.has(client) && this.flooding.size >= MAX_KNOWN_FLOODERS) {
      const now = Date.now();
      for (const [key, end] of this.flooding) if (end <= now) this.flooding.delete(key);
      // Still full: forget the oldest entry (Map keeps insertion order).
      if (this.flooding.size >= MAX_KNOWN_FLOODERS) {
        const oldest = this.flooding.keys().next();
        if (!oldest.done) this.flooding.delete(oldest.value);
      }
    }
    this.flooding.set(client, until);
  }
}

/** The endpoint by the route Fastify matched (an encoded path matches the same route). */
export function webhookEndpointOf(request: FastifyRequest): WebhookEndpoint {
  return request.routeOptions.url === '/api/v1/whatsapp/status' ? 'status' : 'inbound';
}

function forbidden(): AppException {
  return new AppException(
    ErrorCode.BadSignature,
    'The X-Twilio-Signature header is missing or does not match.',
  );
}

function isFormFields(body: unknown): body is FormFields {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

/** Every form field, as the parser produced it (strings, or arrays of strings when repeated). */
function stringFields(fields: FormFields): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (
      typeof value === 'string' ||
      (Array.isArray(value) && value.every((item) => typeof item === 'string'))
    ) {
      result[name] = value;
    }
  }
  return result;
}
