import type { LoggerService, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';

/**
 * A background job run every `everyMs`, never twice at once in this process (a slow run makes
 * the next tick wait, not pile up), whose failures are logged, and which stop() waits for.
 */
export class PeriodicTask {
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly run: () => Promise<unknown>,
    private readonly logger: Pick<LoggerService, 'warn'>,
  ) {}

  start(everyMs: number, firstAfterMs?: number): void {
    this.timers.push(setInterval(() => this.tick(), everyMs));
    if (firstAfterMs !== undefined) this.timers.push(setTimeout(() => this.tick(), firstAfterMs));
  }

  async stop(): Promise<void> {
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers = [];
    await this.running;
  }

  private tick(): void {
    this.running ??= this.run()
      .then(() => undefined)
      .catch((error: unknown) => {
        this.logger.warn(
          { task: this.name, reason: (error as Error).message },
          'Background task failed',
        );
      })
      .finally(() => {
        this.running = undefined;
      });
  }
}

/** When a periodic service runs: every `everyMs`, the first time after `firstAfterMs` (or `everyMs`). */
export interface Schedule {
  everyMs: number;
  firstAfterMs?: number;
}

/**
 * A Nest provider that runs `runOnce` on a schedule from bootstrap until shutdown (the
 * reconciler, retention, the sweeper, the expiry of idempotency keys): one PeriodicTask started
 * in onApplicationBootstrap and awaited in onModuleDestroy. `runOnce` is public: tests and
 * operators call a pass directly.
 */
export abstract class PeriodicService implements OnApplicationBootstrap, OnModuleDestroy {
  protected abstract readonly logger: Pick<LoggerService, 'warn'>;
  private task: PeriodicTask | undefined;

  /** The task's name in the log line of a failed pass. */
  protected abstract readonly taskName: string;

  protected abstract schedule(): Schedule;

  abstract runOnce(): Promise<unknown>;

  onApplicationBootstrap(): void {
    const { everyMs, firstAfterMs } = this.schedule();
    this.task = new PeriodicTask(this.taskName, () => this.runOnce(), this.logger);
    this.task.start(everyMs, firstAfterMs);
  }

  async onModuleDestroy(): Promise<void> {
    await this.task?.stop();
  }
}

/**
 * Repeats `step(limit)` — a bounded DELETE or UPDATE that answers how many rows it touched —
 * until a step touches fewer than `limit`, so no pass locks a table for long; the total.
 */
export async function inBatches(
  step: (limit: number) => Promise<number>,
  limit: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const touched = await step(limit);
    total += touched;
    if (touched < limit) return total;
  }
}
