import type { Logger } from '@nestjs/common';
import { mayBelongToOneItem } from '../database/postgres-errors';
import { Batcher, BatchRefused } from './batcher';

const logger = { warn: jest.fn() } as unknown as Logger;

function batcher(
  write: (items: readonly number[]) => Promise<string[]>,
  limits: Partial<{ maxWaitMs: number; maxWaiting: number; maxInFlight: number }> = {},
) {
  return new Batcher<number, string>({
    run: write,
    isolate: mayBelongToOneItem,
    maxBatch: 3,
    maxInFlight: limits.maxInFlight ?? 1,
    maxWaitMs: limits.maxWaitMs ?? 10_000,
    maxWaiting: limits.maxWaiting ?? 100,
    logger,
    noun: 'numbers',
  });
}

const echo = (items: readonly number[]) => Promise.resolve(items.map((n) => `#${n}`));

describe('Batcher', () => {
  it('should report how long its oldest unanswered item has waited, written or not', async () => {
    let release: () => void = () => undefined;
    const group = batcher(
      (items) =>
        new Promise<string[]>((resolve) => {
          release = () => resolve(items.map((n) => `#${n}`));
        }),
    );
    const now = Date.now();
    expect(group.lagMs(now)).toBe(0);
    const first = group.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    // Batch [1] is being written; 2 waits behind it.
    const second = group.submit(2);
    expect(group.lagMs(now + 5_000)).toBeGreaterThanOrEqual(4_900);
    release();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await second;
    await new Promise((resolve) => setImmediate(resolve));
    expect(group.lagMs()).toBe(0);
  });

  it('should give each caller its own result, in batches of at most maxBatch', async () => {
    const sizes: number[] = [];
    const group = batcher((items) => {
      sizes.push(items.length);
      return echo(items);
    });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => group.submit(n)));
    expect(results).toEqual(['#1', '#2', '#3', '#4', '#5']);
    expect(sizes).toEqual([3, 2]);
  });

  it('should let items wait while a batch is being written, and take them together next', async () => {
    let release: () => void = () => undefined;
    const sizes: number[] = [];
    const group = batcher((items) => {
      sizes.push(items.length);
      if (sizes.length === 1) return new Promise((resolve) => (release = () => resolve(['#1'])));
      return echo(items);
    });
    const first = group.submit(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3].map((n) => group.submit(n));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sizes).toEqual([1]);
    release();
    expect(await Promise.all([first, ...later])).toEqual(['#1', '#2', '#3']);
    expect(sizes).toEqual([1, 2]);
  });

  it('should fail exactly the callers of a batch that fails, and no other', async () => {
    const batches: number[][] = [];
    const group = batcher((items) => {
      batches.push([...items]);
      return items.includes(2) ? Promise.reject(new Error('connection lost')) : echo(items);
    });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => group.submit(n)));
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(results.map((result) => result.status)).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    expect(await group.submit(6)).toBe('#6');
  });

  it('should write a batch failing on one value again one item at a time, failing only that item', async () => {
    const badValue = () => Object.assign(new Error('invalid byte sequence'), { code: '22021' });
    const group = batcher((items) =>
      items.includes(2) ? Promise.reject(badValue()) : echo(items),
    );
    const results = await Promise.allSettled([1, 2, 3].map((n) => group.submit(n)));
    expect(results).toEqual([
      { status: 'fulfilled', value: '#1' },
      { status: 'rejected', reason: expect.objectContaining({ code: '22021' }) },
      { status: 'fulfilled', value: '#3' },
    ]);
  });

  it('should refuse items once too many wait, and items that waited too long, while writes hang', async () => {
    jest.useFakeTimers();
    try {
      const group = batcher(() => new Promise<string[]>(() => undefined), {
        maxWaitMs: 3_000,
        maxWaiting: 2,
      });
      void group.submit(1); // taken by the first batch, which never finishes
      await jest.advanceTimersByTimeAsync(1);
      const waiting = [group.submit(2), group.submit(3)];
      await expect(group.submit(4)).rejects.toBeInstanceOf(BatchRefused);
      const settled = Promise.allSettled(waiting);
      await jest.advanceTimersByTimeAsync(3_100);
      expect((await settled).map((result) => result.status)).toEqual(['rejected', 'rejected']);
      expect(((await settled)[0] as PromiseRejectedResult).reason).toBeInstanceOf(BatchRefused);
    } finally {
      jest.useRealTimers();
    }
  });

  it('should drain: resolve only once what was waiting and what was being written is written', async () => {
    const written: number[] = [];
    const group = batcher(async (items) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      written.push(...items);
      return items.map((n) => `#${n}`);
    });
    const pending = [1, 2, 3, 4].map((n) => group.submit(n));
    await group.drain();
    expect(written.sort()).toEqual([1, 2, 3, 4]);
    expect(await Promise.all(pending)).toEqual(['#1', '#2', '#3', '#4']);
  });
});
