import type { Logger } from '@nestjs/common';

/**
 * The defaults, made for database batches: 200 items a statement, two statements at once (the
 * pool keeps room for everything else), an item waits for its batch at most as long as a request
 * would wait for a pooled connection (3 s, the pool's connect timeout), and at most 5,000 wait.
 */
const DEFAULTS = { maxBatch: 200, maxInFlight: 2, maxWaitMs: 3_000, maxWaiting: 5_000 } as const;

export interface BatcherOptions<I, O> {
  /**
   * Does a batch's work — writes, or one read for many callers (a look-up) — in ONE statement or
   * transaction; one result per item, in order.
   */
  run(items: readonly I[]): Promise<O[]>;
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
  /**
   * How long an item may wait for its batch to start: past it, it is refused (BatchRefused)
   * instead of written late, so a stalled database answers 503 within seconds, as one request
   * waiting for a pooled connection would.
   */
  maxWaitMs: number;
  /** Items waiting at most; more are refused at once (BatchRefused): bounded memory under a stall. */
  maxWaiting: number;
  logger: Logger;
  /** What an item is, for the log line when a batch is split ("status events"). */
  noun: string;
}

interface Waiting<I, O> {
  item: I;
  since: number;
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
  private staleTimer: NodeJS.Timeout | undefined;
  private readonly writing = new Set<Promise<void>>();
  /** When the oldest item of each batch being written was handed in. */
  private readonly writingSince = new Set<{ since: number }>();

  private readonly options: BatcherOptions<I, O>;

  constructor(
    options: Omit<BatcherOptions<I, O>, keyof typeof DEFAULTS> &
      Partial<Pick<BatcherOptions<I, O>, keyof typeof DEFAULTS>>,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  submit(item: I): Promise<O> {
    if (this.waiting.length >= this.options.maxWaiting) {
      return Promise.reject(new BatchRefused(`${this.options.noun}: too many waiting`));
    }
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, since: Date.now(), resolve, reject });
      this.schedule();
    });
  }

  /**
   * How far behind the writes are: how long ago the oldest item not yet answered was handed in
   * (waiting, or in a batch being written); 0 when nothing is.
   */
  lagMs(now = Date.now()): number {
    let oldest = this.waiting[0]?.since ?? now;
    for (const batch of this.writingSince) oldest = Math.min(oldest, batch.since);
    return Math.max(0, now - oldest);
  }

  /**
   * Writes what is waiting now and waits for every write in progress, once: items that arrive
   * meanwhile are written as usual (a shutdown still serving requests must not wait for a quiet
   * moment that never comes).
   */
  async drain(): Promise<void> {
    this.startBatches(true);
    await Promise.all([...this.writing]);
  }

  private schedule(): void {
    if (this.inFlight >= this.options.maxInFlight) {
      this.watchStale();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startBatches(false);
    });
  }

  private startBatches(ignoreLimit: boolean): void {
    this.refuseStale();
    while (this.waiting.length > 0 && (ignoreLimit || this.inFlight < this.options.maxInFlight)) {
      const batch = this.waiting.slice(0, this.options.maxBatch);
      this.waiting = this.waiting.slice(batch.length);
      this.inFlight += 1;
      const started = { since: batch[0].since };
      this.writingSince.add(started);
      const write = this.runBatch(batch).finally(() => {
        this.inFlight -= 1;
        this.writingSince.delete(started);
        this.writing.delete(write);
        if (this.waiting.length > 0) this.startBatches(false);
      });
      this.writing.add(write);
    }
  }

  /**
   * While every slot is busy (writes hanging on a stalled database), waiting items are still
   * refused on time: a timer fires when the oldest one's wait runs out.
   */
  private watchStale(): void {
    if (this.staleTimer !== undefined || this.waiting.length === 0) return;
    const due = this.waiting[0].since + this.options.maxWaitMs - Date.now();
    this.staleTimer = setTimeout(
      () => {
        this.staleTimer = undefined;
        this.refuseStale();
        if (this.inFlight >= this.options.maxInFlight) this.watchStale();
      },
      Math.max(0, due) + 1,
    );
    this.staleTimer.unref();
  }

  /** Refuses the items that waited longer than maxWaitMs (the oldest are first). */
  private refuseStale(): void {
    const oldest = Date.now() - this.options.maxWaitMs;
    let stale = 0;
    while (stale < this.waiting.length && this.waiting[stale].since < oldest) stale += 1;
    if (stale === 0) return;
    const refused = this.waiting.slice(0, stale);
    this.waiting = this.waiting.slice(stale);
    this.options.logger.warn(
      { items: refused.length, maxWaitMs: this.options.maxWaitMs },
      `${this.options.noun} waited too long for a batch; refused`,
    );
    for (const entry of refused) {
      entry.reject(new BatchRefused(`${this.options.noun}: waited too long for a batch`));
    }
  }

  private async runBatch(batch: Waiting<I, O>[]): Promise<void> {
    let results: O[];
    try {
      results = await this.options.run(batch.map((entry) => entry.item));
    } catch (error) {
      if (batch.length > 1 && this.options.isolate(error)) {
        this.options.logger.warn(
          { items: batch.length },
          `A batch failed on one of its ${this.options.noun}; writing them one at a time`,
        );
        for (const entry of batch) {
          try {
            const [result] = await this.options.run([entry.item]);
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
 * An item refused before any write was attempted for it (its batch never started in time, or
 * too many were waiting): nothing of it was stored, so the request can be answered 503 "retry".
 */
export class BatchRefused extends Error {
  override readonly name = 'BatchRefused';
}
