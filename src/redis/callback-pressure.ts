import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { REDIS_CLIENT } from './redis.constants';

/** One api process's report of its callback path. */
export interface CallbackPressure {
  /** How far behind its callback path is, in ms: the longest a callback waited to be committed, or the event loop's delay. */
  lagMs: number;
  /** When it reported, on its clock (ms since the epoch). */
  at: number;
}

/** One hash: a field per api process, `<lagMs>:<atMs>`. */
const KEY = '{send-budget}:callbacks';
/** The hash goes when no process has reported for this long (all api processes gone). */
const KEY_TTL_MS = 10_000;

/**
 * Where api processes report how far behind their callback path is and workers read it (the
 * send budget's pacing signal, docs/architecture.md §4.5): one Redis hash, one field per api
 * process, each value stamped with when it was written so a stopped process's report ages out.
 */
@Injectable()
export class CallbackPressureBoard {
  /** This process's field: host, pid and a random part (pids repeat across containers). */
  readonly reporter = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

  constructor(@Inject(REDIS_CLIENT) private readonly redis: Redis) {}

  async write(lagMs: number, at = Date.now()): Promise<void> {
    await this.redis
      .multi()
      .hset(KEY, this.reporter, `${Math.max(0, Math.round(lagMs))}:${at}`)
      .pexpire(KEY, KEY_TTL_MS)
      .exec();
  }

  async remove(): Promise<void> {
    await this.redis.hdel(KEY, this.reporter);
  }

  async read(): Promise<CallbackPressure[]> {
    const fields = await this.redis.hgetall(KEY);
    return Object.values(fields).flatMap((value) => {
      const [lag, at] = value.split(':').map(Number);
      return Number.isFinite(lag) && Number.isFinite(at) ? [{ lagMs: lag, at }] : [];
    });
  }
}
