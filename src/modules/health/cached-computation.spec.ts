import { CachedComputation } from './cached-computation';

function deferred<T>(): {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: Error) => void;
} {
  let resolve: (v: T) => void = () => undefined;
  let reject: (e: Error) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('CachedComputation', () => {
  let now: number;
  let runs: ReturnType<typeof deferred<number>>[];
  let cached: CachedComputation<number>;

  beforeEach(() => {
    now = 0;
    runs = [];
    cached = new CachedComputation(
      () => {
        const run = deferred<number>();
        runs.push(run);
        return run.promise;
      },
      1_000,
      () => now,
    );
  });

  it('should give every concurrent caller the one computation in flight', async () => {
    const answers = Array.from({ length: 50 }, () => cached.get());
    expect(runs).toHaveLength(1);
    runs[0].resolve(7);
    expect(await Promise.all(answers)).toEqual(Array(50).fill(7));
  });

  it('should reuse a settled result within the window and compute again after it', async () => {
    const first = cached.get();
    now = 5_000; // the window starts when the computation settles, not when it started
    runs[0].resolve(1);
    await first;
    now = 5_999;
    expect(await cached.get()).toBe(1);
    expect(runs).toHaveLength(1);
    now = 6_000;
    const second = cached.get();
    expect(runs).toHaveLength(2);
    runs[1].resolve(2);
    expect(await second).toBe(2);
  });

  it('should not keep a failure: the next caller starts afresh', async () => {
    const first = cached.get();
    runs[0].reject(new Error('boom'));
    await expect(first).rejects.toThrow('boom');
    const second = cached.get();
    expect(runs).toHaveLength(2);
    runs[1].resolve(3);
    expect(await second).toBe(3);
  });
});
