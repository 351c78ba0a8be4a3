import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { ListenQueue } from '../../../common/http/listen-queue';
import { CallbackPressureBoard } from '../../../redis/callback-pressure';
import { DeliveryService } from '../delivery.service';

/** How often an api process reports (the workers' send budget reads at most this stale a value, plus its cache). */
const REPORT_EVERY_MS = 250;

/**
 * The api roles' half of the send budget's pacing (docs/architecture.md §4.5): every 250 ms, how
 * far behind this process's callback path is — the oldest status callback or inbound message not
 * yet committed, the event loop's worst delay since the last report (a callback waiting in a
 * socket behind a busy loop is not in any batch yet), or the wait of the connections queued to be
 * accepted (ListenQueue: a sender's burst of new connections waits there, unseen by the rest) —
 * goes to Redis, where the workers read it before each send. A report that cannot be written is
 * skipped: the workers ignore stale ones.
 */
@Injectable()
export class CallbackPressureReporter implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CallbackPressureReporter.name);
  private timer: NodeJS.Timeout | undefined;
  private loop: IntervalHistogram | undefined;
  private failing = false;
  /** The report being written, if any: one at a time, and awaited before the field goes. */
  private writing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly delivery: DeliveryService,
    private readonly board: CallbackPressureBoard,
    private readonly listenQueue: ListenQueue,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = monitorEventLoopDelay({ resolution: 20 });
    this.loop.enable();
    this.timer = setInterval(() => {
      // The accept queue is read in the background; this report uses its last fresh sample.
      void this.listenQueue.sample();
      if (!this.writing) this.writing = this.report().finally(() => (this.writing = undefined));
    }, REPORT_EVERY_MS);
    this.timer.unref();
  }

  /** The lag this process reports now (ms); resets the event loop's window. */
  lagMs(): number {
    const loopMs = this.loop ? this.loop.max / 1e6 : 0;
    this.loop?.reset();
    return Math.max(this.delivery.callbackLagMs(), loopMs);
  }

  /** What this process reports now (ms): the callback path's lag or the accept queue's wait. */
  pressureMs(): number {
    return Math.max(this.lagMs(), this.listenQueue.waitMs());
  }

  private async report(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.board.write(this.pressureMs());
      if (this.failing) this.logger.log('Reporting the callback path again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) {
        this.logger.warn(
          { reason: (error as Error).message },
          'Could not report the callback path',
        );
      }
      this.failing = true;
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.loop?.disable();
    this.listenQueue.stop();
    await this.writing;
    await this.board.remove().catch(() => undefined);
  }
}
