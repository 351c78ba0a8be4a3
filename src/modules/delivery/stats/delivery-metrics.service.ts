import { Inject, Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Histogram } from 'prom-client';
import type { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.constants';
import { MessagesRepository } from '../queries/messages.repository';
import type { StageTimes } from '../delivery.types';

export const MESSAGES_TOTAL = 'whatsapp_messages_total';
export const STATUS_EVENTS_TOTAL = 'whatsapp_status_events_total';
export const DELIVERY_SECONDS = 'whatsapp_delivery_seconds';
export const STUCK = 'whatsapp_messages_stuck';
const GAUGE_CACHE_MS = 5_000;

/**
 * The delivery metrics (docs/api.md §6): per-process counters, and the stuck gauge
 * read at scrape time.
 */
@Injectable()
export class DeliveryMetricsService {
  private stuckCache: { value: number; at: number } | undefined;

  constructor(
    @InjectMetric(MESSAGES_TOTAL) private readonly messages: Counter<'direction' | 'status'>,
    @InjectMetric(STATUS_EVENTS_TOTAL) private readonly events: Counter<'status' | 'applied'>,
    @InjectMetric(DELIVERY_SECONDS) private readonly latency: Histogram<'stage'>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly messagesRepository: MessagesRepository,
  ) {}

  messageReached(direction: 'outbound' | 'inbound', status: string): void {
    this.messages.inc({ direction, status });
  }

  statusEvent(status: string, applied: boolean): void {
    this.events.inc({ status, applied: String(applied) });
  }

  /** Observes the stage an applied event completed (once per message and stage). */
  stageReached(status: string, times: StageTimes): void {
    const observe = (stage: string, from: Date | null, to: Date | null): void => {
      if (from && to && to >= from)
        this.latency.observe({ stage }, (to.getTime() - from.getTime()) / 1000);
    };
    if (status === 'sent') observe('accepted_to_sent', times.acceptedAt, times.sentAt);
    if (status === 'delivered') observe('sent_to_delivered', times.sentAt, times.deliveredAt);
    if (status === 'read') observe('delivered_to_read', times.deliveredAt, times.readAt);
  }

  /** The stuck gauge's value (DeliveryModule's STUCK provider reads it at scrape time). */
  async stuck(): Promise<number> {
    if (this.stuckCache && Date.now() - this.stuckCache.at < GAUGE_CACHE_MS)
      return this.stuckCache.value;
    const n = await this.messagesRepository.countStuck(this.config.delivery.stuckAfterSeconds);
    this.stuckCache = { value: n, at: Date.now() };
    return n;
  }

  /** Drops the cached stuck count, so the next scrape reads it anew (after a reconcile pass). */
  forgetStuckCount(): void {
    this.stuckCache = undefined;
  }
}
