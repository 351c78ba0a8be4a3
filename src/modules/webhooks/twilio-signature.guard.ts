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
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { FixedWindowCounter } from '../../redis/fixed-window-counter';
import { REDIS_CLIENT } from '../../redis/redis.constants';
import { TwilioSignatureValidator } from '../twilio/twilio-signature.validator';
import type { FormFields } from './inbound-fields';
import { signedUrlFor } from './signed-url';
import { WebhookMetricsService, type WebhookEndpoint } from './webhook-metrics.service';

const UNSIGNED_WINDOW_MS = 60_000;

/**
 * Twilio's signature over PUBLIC_BASE_URL + the path and query as received (never the internal
 * host, scheme or port) and every form field. Valid traffic is never throttled (Twilio does not
 * retry a 429); requests failing the check are counted per client IP and get 429 past
 * WEBHOOK_UNSIGNED_LIMIT a minute. SIGNATURE_MODE=report counts and logs failures but lets
 * them through, to check a proxy setup before enforcing.
 */
@Injectable()
export class TwilioSignatureGuard implements CanActivate {
  private readonly logger = new Logger(TwilioSignatureGuard.name);
  private readonly counter: FixedWindowCounter;

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
    const endpoint: WebhookEndpoint = request.url.startsWith('/api/v1/whatsapp/status')
      ? 'status'
      : 'inbound';
    const fields = isFormFields(request.body) ? request.body : {};
    const header = request.headers['x-twilio-signature'];
    const url = signedUrlFor(this.config.publicBaseUrl, request.url);
    const check = this.validator.check(
      Array.isArray(header) ? header[0] : header,
      url,
      stringFields(fields),
    );
    if (check === 'valid') return true;
    if (check === 'valid-previous-token') {
      this.logger.log(
        { endpoint },
        'Webhook signed with TWILIO_AUTH_TOKEN_PREVIOUS (rotation under way)',
      );
      return true;
    }
    this.metrics.count(endpoint, 'bad_signature');
    this.logger.warn(
      { endpoint, reason: `${check} signature`, ip: request.ip, url },
      'Webhook failed the signature check',
    );
    if (this.config.signatureMode === 'report') return true;
    await this.throttle(endpoint, request.ip);
    throw new AppException(
      ErrorCode.BadSignature,
      'The X-Twilio-Signature header is missing or does not match.',
    );
  }

  private async throttle(endpoint: WebhookEndpoint, ip: string): Promise<void> {
    let count: number;
    let resetMs: number;
    try {
      ({ count, resetMs } = await this.counter.increment(
        `webhook-unsigned:${ip}`,
        UNSIGNED_WINDOW_MS,
      ));
    } catch {
      return; // Redis away: fail open, the 403 still stands
    }
    if (count <= this.config.limits.webhookUnsignedPerIp) return;
    this.metrics.count(endpoint, 'throttled');
    throw new AppException(
      ErrorCode.RateLimited,
      'Too many unsigned webhook requests.',
      undefined,
      {
        'retry-after': String(Math.max(1, Math.ceil(resetMs / 1000))),
      },
    );
  }
}

function isFormFields(body: unknown): body is FormFields {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

/** Only string (or string-array) fields can be part of Twilio's signature. */
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
