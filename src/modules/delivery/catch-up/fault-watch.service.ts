import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { PeriodicService, type Schedule } from '../../../common/periodic-task';
import type { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.constants';
import { REDIS_CLIENT } from '../../../redis/redis.constants';
import { CatchUpRepository } from './catch-up.repository';
import { HEARTBEAT_EVERY_MS, shedWindow, stallGap, type FaultWindow } from './fault-windows';

/**
 * Notices our own faults that may have cost callbacks and records each as a catch-up window
 * (docs/architecture.md §4.6), in every process: its roles' heartbeats in PostgreSQL (a gap =
 * a crash with nobody else alive, or PostgreSQL away), its Redis connection coming back, its own
 * event loop stalling, and the end of a period in which it refused webhooks (503). A window that
 * cannot be recorded yet (PostgreSQL away) waits here and is written at the next beat.
 */
@Injectable()
export class FaultWatchService
  extends PeriodicService
  implements OnApplicationBootstrap, OnModuleDestroy
{
  protected readonly logger = new Logger(FaultWatchService.name);
  protected readonly taskName = 'fault watch';
  /** When this process started watching: a gap it finds later than this, it lived through. */
  startedAt = new Date();
  private readonly roles: string[];
  private readonly enabled: boolean;
  private pending: FaultWindow[] = [];
  private shedFirst: number | undefined;
  private shedLast = 0;
  private redisDownSince: number | undefined;
  private lastTickAt = Date.now();
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly windows: CatchUpRepository,
    @Inject(REDIS_CLIENT) private readonly redis: Redis,
  ) {
    super();
    this.roles = config.role === 'all' ? ['api', 'worker'] : [config.role];
    this.enabled = config.delivery.catchUp;
  }

  protected schedule(): Schedule {
    return { everyMs: HEARTBEAT_EVERY_MS, firstAfterMs: 0 };
  }

  override onApplicationBootstrap(): void {
    if (!this.enabled) return;
    super.onApplicationBootstrap();
    this.redis.on('close', this.redisClosed);
    this.redis.on('ready', this.redisReady);
    // Its own timer, so a beat waiting on the database never looks like a stalled loop.
    this.lastTickAt = Date.now();
    this.stallTimer = setInterval(() => {
      const now = Date.now();
      const stall = stallGap(this.lastTickAt, now);
      if (stall) this.pending.push(stall);
      this.lastTickAt = now;
    }, HEARTBEAT_EVERY_MS);
    this.stallTimer.unref();
  }

  override async onModuleDestroy(): Promise<void> {
    clearInterval(this.stallTimer);
    this.redis.off('close', this.redisClosed);
    this.redis.off('ready', this.redisReady);
    await super.onModuleDestroy();
  }

  /** A webhook was refused with a 503 (it could not be committed): Twilio may not send it again. */
  noteShed(now = Date.now()): void {
    this.shedFirst ??= now;
    this.shedLast = now;
  }

  /** One beat per role, then any window waiting to be recorded. */
  async runOnce(): Promise<void> {
    if (this.shedFirst !== undefined) {
      const shed = shedWindow(this.shedFirst, this.shedLast, Date.now());
      if (shed) {
        this.pending.push(shed);
        this.shedFirst = undefined;
      }
    }
    for (const role of this.roles) {
      const gap = await this.windows.beat(role, this.startedAt);
      if (gap) this.logRecorded(gap);
    }
    while (this.pending.length > 0) {
      const window = this.pending[0];
      if (await this.windows.record(window)) this.logRecorded(window);
      this.pending.shift();
    }
  }

  private readonly redisClosed = (): void => {
    this.redisDownSince ??= Date.now();
  };

  private readonly redisReady = (): void => {
    if (this.redisDownSince === undefined) return;
    this.pending.push({ reason: 'redis', from: new Date(this.redisDownSince), to: new Date() });
    this.redisDownSince = undefined;
  };

  private logRecorded(window: FaultWindow): void {
    this.logger.warn(
      {
        reason: window.reason,
        from: window.from.toISOString(),
        to: window.to.toISOString(),
        seconds: Math.round((window.to.getTime() - window.from.getTime()) / 100) / 10,
      },
      'Callbacks may have been lost: catching up',
    );
  }
}
