/**
 * One computation shared by every concurrent caller and reused for `ttlMs` after it settles,
 * so a storm of probes costs one round of dependency checks per window. A rejection is not
 * kept: the next caller starts afresh.
 */
export class CachedComputation<T> {
  private current: { promise: Promise<T>; settledAt: number | undefined } | undefined;

  constructor(
    private readonly compute: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<T> {
    const current = this.current;
    if (
      current &&
      (current.settledAt === undefined || this.now() - current.settledAt < this.ttlMs)
    ) {
      return current.promise;
    }
    const entry = { promise: this.compute(), settledAt: undefined as number | undefined };
    this.current = entry;
    entry.promise.then(
      () => {
        entry.settledAt = this.now();
      },
      () => {
        if (this.current === entry) this.current = undefined;
      },
    );
    return entry.promise;
  }
}
