import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { isDataException, sqlStateOf } from '../../common/errors/error-response';
import type { EventResult, StatusEvent } from './delivery.types';
import { StatusBatchRepository } from './status-batch.repository';

/** A flush starts this long after the first event waiting, or at once when the batch is full. */
export const FLUSH_AFTER_MS = 2;
export const MAX_BATCH = 100;

interface Waiting {
  event: StatusEvent;
  resolve: (result: EventResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for status events: callers hand in one event each and wait; every few
 * milliseconds (or every MAX_BATCH events) the waiting events are written in one transaction
 * (StatusBatchRepository), and each caller gets its own event's outcome only after that
 * transaction committed. A flush that fails fails exactly its callers. When the database
 * refuses a value (bad data, an integrity violation) or the batch lost a deadlock, it is
 * written again one event at a time, so a bad event gets its own error and its neighbours are
 * not failed with it.
 */
@Injectable()
export class StatusEventBatcher implements OnModuleDestroy {
  private readonly logger = new Logger(StatusEventBatcher.name);
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly batches: StatusBatchRepository) {}

  submit(event: StatusEvent): Promise<EventResult> {
    return new Promise<EventResult>((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      if (this.waiting.length >= MAX_BATCH) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
    });
  }

  /** Writes what is waiting now; resolves once every write in progress has finished. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.writing]);
  }

  async onModuleDestroy(): Promise<void> {
    await this.drain();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.length === 0) return;
    const batch = this.waiting;
    this.waiting = [];
    const write = this.write(batch).finally(() => this.writing.delete(write));
    this.writing.add(write);
  }

  private async write(batch: Waiting[]): Promise<void> {
    let results: EventResult[];
    try {
      results = await this.batches.record(batch.map((entry) => entry.event));
    } catch (error) {
      if (batch.length > 1 && (isDataException(error) || belongsToOneEvent(error))) {
        this.logger.warn(
          { events: batch.length },
          'A batch failed on one of its events; writing them one at a time',
        );
        await this.oneByOne(batch);
      } else {
        for (const entry of batch) entry.reject(error);
      }
      return;
    }
    batch.forEach((entry, index) => entry.resolve(results[index]));
  }

  private async oneByOne(batch: Waiting[]): Promise<void> {
    for (const entry of batch) {
      try {
        const [result] = await this.batches.record([entry.event]);
        entry.resolve(result);
      } catch (error) {
        entry.reject(error);
      }
    }
  }
}

/**
 * Errors one event of a batch can cause on its own: an integrity violation (class 23, e.g. a
 * SID another message already holds) or a lost deadlock (40P01: two batches took the same
 * unique keys in opposite orders). Written one at a time, only that event fails.
 */
function belongsToOneEvent(error: unknown): boolean {
  const sqlState = sqlStateOf(error);
  return sqlState !== undefined && (sqlState.startsWith('23') || sqlState === '40P01');
}
