import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Batcher } from '../../../common/batcher';
import { mayBelongToOneItem } from '../../../database/postgres-errors';
import type { EventResult, StatusEvent } from '../delivery.types';
import { StatusBatchRepository } from './status-batch.repository';

/**
 * Group commit for status events (common/batcher.ts): callers hand in one event each and
 * wait; the events are written in batches, one transaction each (StatusBatchRepository), and
 * each caller gets its own event's outcome only after that transaction committed. A batch that
 * fails fails exactly its callers; when the database refuses one event's value, or the batch
 * lost a deadlock, it is written again one event at a time, so only that event fails.
 */
@Injectable()
export class StatusEventBatcher implements OnModuleDestroy {
  private readonly group: Batcher<StatusEvent, EventResult>;

  constructor(batches: StatusBatchRepository) {
    this.group = new Batcher({
      run: (events) => batches.record(events),
      isolate: mayBelongToOneItem,
      logger: new Logger(StatusEventBatcher.name),
      noun: 'status events',
    });
  }

  submit(event: StatusEvent): Promise<EventResult> {
    return this.group.submit(event);
  }

  /** How far behind the writes are (Batcher.lagMs): the callback path's pacing signal. */
  lagMs(): number {
    return this.group.lagMs();
  }

  /** Writes what is waiting now; resolves once every write in progress has finished. */
  drain(): Promise<void> {
    return this.group.drain();
  }

  async onModuleDestroy(): Promise<void> {
    await this.drain();
  }
}
