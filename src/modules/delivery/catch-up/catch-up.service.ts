import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.constants';
import { PeriodicService, type Schedule } from '../../../common/periodic-task';
import { ReconcileRepository } from '../reconcile/reconcile.repository';
import { CHUNK_LEASE_MS, ReconcilerService } from '../reconcile/reconciler.service';
import { CatchUpRepository } from './catch-up.repository';
import { LOOKBACK_SECONDS, READ_LOOKBACK_SECONDS } from './fault-windows';

/** How often a worker looks for an open catch-up window. */
const EVERY_MS = 1_000;
/** A window's lease while a worker looks at its messages (renewed after each chunk). */
const WINDOW_LEASE_MS = 2 * CHUNK_LEASE_MS;
/** When Twilio could not answer for some of its messages, the window is taken again this soon. */
const AGAIN_MS = 5_000;

/**
 * The catch-up (docs/architecture.md §4.6), worker roles: takes the oldest open window FaultWatch
 * recorded (a lease: one worker per window), and looks at Twilio, through the reconciler's own
 * fetch path (its fetch slots, its writer), at every message that could have missed a callback
 * in it, chunk by chunk, each chunk leased on the messages themselves, so two replicas never
 * fetch one message. The window closes once no such message is left; within seconds of the
 * fault ending, not at the reconciler's first look minutes later.
 */
@Injectable()
export class CatchUpService extends PeriodicService {
  protected readonly logger = new Logger(CatchUpService.name);
  protected readonly taskName = 'catch-up';
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly windows: CatchUpRepository,
    private readonly messages: ReconcileRepository,
    private readonly reconciler: ReconcilerService,
  ) {
    super();
  }

  protected schedule(): Schedule {
    return { everyMs: EVERY_MS };
  }

  override onApplicationBootstrap(): void {
    if (this.config.delivery.catchUp) super.onApplicationBootstrap();
  }

  /** Shutting down: the window in hand is left to another worker after a short lease. */
  override async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await super.onModuleDestroy();
  }

  /** Works one open window to its end (or until Twilio cannot answer); what it looked at. */
  async runOnce(): Promise<{ window: string; checked: number; applied: number } | null> {
    const window = await this.windows.lease(WINDOW_LEASE_MS);
    if (!window) return null;
    let checked = 0;
    let applied = 0;
    for (;;) {
      const chunk = await this.messages.leaseInWindow({
        from: window.from,
        to: window.to,
        lookbackSeconds: LOOKBACK_SECONDS,
        readLookbackSeconds: READ_LOOKBACK_SECONDS,
        limit: ReconcilerService.CHUNK,
        leaseMs: CHUNK_LEASE_MS,
      });
      if (chunk.length === 0) break;
      const looked = await this.reconciler.lookAt(chunk);
      checked += chunk.length - looked.released;
      applied += looked.applied;
      if (looked.released > 0 || this.stopping) {
        await this.windows.renew(window.id, AGAIN_MS);
        return { window: window.id, checked, applied };
      }
      await this.windows.renew(window.id, WINDOW_LEASE_MS);
    }
    await this.windows.finish(window.id, checked);
    this.logger.log(
      { reason: window.reason, from: window.from, to: window.to, checked, applied },
      'Caught up after a fault',
    );
    return { window: window.id, checked, applied };
  }
}
