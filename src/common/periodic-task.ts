import type { LoggerService } from '@nestjs/common';

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
