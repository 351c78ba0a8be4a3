import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';

export const WEBHOOK_REQUESTS = 'twilio_webhook_requests_total';

export type WebhookEndpoint = 'inbound' | 'status';
export type WebhookResult = 'ok' | 'duplicate' | 'orphan' | 'bad_signature' | 'throttled' | 'error';

@Injectable()
export class WebhookMetricsService {
  constructor(
    @InjectMetric(WEBHOOK_REQUESTS) private readonly requests: Counter<'endpoint' | 'result'>,
  ) {}

  count(endpoint: WebhookEndpoint, result: WebhookResult): void {
    this.requests.inc({ endpoint, result });
  }
}
