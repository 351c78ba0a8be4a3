import type { Logger } from '@nestjs/common';
import { isDataException, sqlStateOf } from './errors/error-response';

export interface BatcherOptions<I, O> {
  /** Does a batch's work in ONE statement or transaction; one result per item, in order. */
  write(items: readonly I[]): Promise<O[]>;
  /**
   * Whether a failed batch's error may belong to a single item (bad data, an integrity
   * violation, a lost deadlock): the batch is then written again one item at a time, so only
   * that item fails. Any other error fails every item of the batch.
   */
  isolate(error: unknown): boolean;
  /** Items per transaction at most. */
  maxBatch: number;
  /** Transactions in progress at once; more items wait and join the next batch. */
  maxInFlight: number;
  logger: Logger;
  /** What an item is, for the log line when a batch is split ("status events"). */
  noun: string;
}

interface Waiting<I, O> {
  item: I;
  resolve: (result: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit (and, for reads, one query for many callers): callers hand in one item each and
 * wait; items are written in batches, each batch one transaction, and a caller gets its own
 * item's result only after that transaction committed. A batch starts at once when fewer than `maxInFlight` are being written (after the
 * current turn of the event loop, so requests that arrived together go together); otherwise
 * items wait and the next batch takes them all (up to `maxBatch`) when a write finishes. So a
 * quiet service writes each item at once, and a busy one writes fewer, larger transactions
 * instead of queueing on the connection pool. A batch that fails fails exactly its callers.
 */
export class Batcher<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly writing = new Set<Promise<void>>();

  constructor(private readonly options: BatcherOptions<I, O>) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Writes everything waiting now; resolves once every write in progress has finished. */
  async drain(): Promise<void> {
    while (this.waiting.length > 0 || this.writing.size > 0) {
      this.startBatches(true);
      await Promise.all([...this.writing]);
    }
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startBatches(false);
    });
  }

  private startBatches(ignoreLimit: boolean): void {
    while (this.waiting.length > 0 && (ignoreLimit || this.inFlight < this.options.maxInFlight)) {
      const batch = this.waiting.slice(0, this.options.maxBatch);
      this.waiting = this.waiting.slice(batch.length);
      this.inFlight += 1;
      const write = this.write(batch).finally(() => {
        this.inFlight -= 1;
        this.writing.delete(write);
        if (this.waiting.length > 0) this.startBatches(false);
      });
      this.writing.add(write);
    }
  }

  private async write(batch: Waiting<I, O>[]): Promise<void> {
    let results: O[];
    try {
      results = await this.options.write(batch.map((entry) => entry.item));
    } catch (error) {
      if (batch.length > 1 && this.options.isolate(error)) {
        this.options.logger.warn(
          { items: batch.length },
          `A batch failed on one of its ${this.options.noun}; writing them one at a time`,
        );
        for (const entry of batch) {
          try {
            const [result] = await this.options.write([entry.item]);
            entry.resolve(result);
          } catch (single) {
            entry.reject(single);
          }
        }
      } else {
        for (const entry of batch) entry.reject(error);
      }
      return;
    }
    batch.forEach((entry, index) => entry.resolve(results[index]));
  }
}

/**
 * Errors one item of a batch can cause on its own: a value the database refuses (class 22), an
 * integrity violation (class 23, e.g. a SID another message already holds) or a lost deadlock
 * (40P01: two batches took the same unique keys in opposite orders). Written one at a time,
 * only that item fails.
 */
export function mayBelongToOneItem(error: unknown): boolean {
  const sqlState = sqlStateOf(error);
  return (
    isDataException(error) ||
    (sqlState !== undefined && (sqlState.startsWith('23') || sqlState === '40P01'))
  );
}
