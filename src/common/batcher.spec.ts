import type { Logger } from '@nestjs/common';
import { Batcher, BatchRefused, mayBelongToOneItem } from './batcher';

const logger = { warn: jest.fn() } as unknown as Logger;

function batcher(
  write: (items: readonly number[]) => Promise<string[]>,
  limits: Partial<{ maxWaitMs: number; maxWaiting: number; maxInFlight: number }> = {},
) {
  return new Batcher<number, string>({
    write,
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

  it('should fail exactly the callers of a batch that fails', async () => {
    const group = batcher((items) =>
      items.includes(2) ? Promise.reject(new Error('connection lost')) : echo(items),
    );
    const [one, two] = await Promise.allSettled([group.submit(1), group.submit(2)]);
    expect(one).toMatchObject({ status: 'rejected' });
    expect(two).toMatchObject({ status: 'rejected' });
    expect(await group.submit(3)).toBe('#3');
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

  it('should drain once: what waits now and what is being written, not what arrives after', async () => {
    const group = batcher(echo);
    const pending = [group.submit(1), group.submit(2)];
    await group.drain();
    expect(await Promise.all(pending)).toEqual(['#1', '#2']);
  });
});
