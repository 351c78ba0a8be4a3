import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DeliveryMetricsService } from './delivery-metrics.service';
import type { EventResult, StatusEvent } from './delivery.types';
import { MessageEventsRepository } from './message-events.repository';

/** The one entry point for status events, whatever their source (worker, callback, reconciler). */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);

  constructor(
    private readonly events: MessageEventsRepository,
    private readonly metrics: DeliveryMetricsService,
  ) {}

  /**
   * Applies one event. `before` writes what must land with it in one transaction (the worker's
   * SID with Twilio's first status; a failure's retry mark with `failed`): a process killed in
   * between must never leave a row that no sweeper, claim or reconciler picks up again.
   */
  async applyEvent(
    event: StatusEvent,
    before?: (manager: EntityManager) => Promise<void>,
  ): Promise<EventResult> {
    const result = await this.events.record(event, before);
    if (result.outcome === 'applied' || result.outcome === 'logged') {
      this.metrics.statusEvent(event.status, result.outcome === 'applied');
    }
    if (result.outcome === 'applied') {
      this.metrics.messageReached('outbound', event.status);
      if (result.stages) this.metrics.stageReached(event.status, result.stages);
    }
    if (result.anomaly) {
      this.logger.warn(
        {
          messageId: result.messageId,
          sid: event.twilioSid,
          status: event.status,
          errorCode: event.errorCode,
        },
        'Failure reported after delivery; logged, not applied',
      );
    }
    return result;
  }
}
