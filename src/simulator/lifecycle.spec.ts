import { planLifecycle } from './lifecycle';
import { DEFAULT_SIM_CONFIG, type SimConfig } from './sim-config';

/** A random source that returns the given values in turn (then 0.5). */
function sequence(...values: number[]): () => number {
  return () => values.shift() ?? 0.5;
}

const config = (patch: Partial<SimConfig>): SimConfig => ({ ...DEFAULT_SIM_CONFIG, ...patch });

describe('planLifecycle', () => {
  it('should go sent, delivered, read in order with one callback each', () => {
    const plan = planLifecycle(config({ callbackDelayMs: { min: 100, max: 100 } }), sequence(0.9));
    expect(plan.map((event) => [event.status, event.atMs, event.callbackAtMs])).toEqual([
      ['sent', 100, [100]],
      ['delivered', 200, [200]],
      ['read', 300, [300]],
    ]);
  });

  it('should stop at delivered without read receipts', () => {
    expect(planLifecycle(config({ read: false })).map((event) => event.status)).toEqual([
      'sent',
      'delivered',
    ]);
  });

  it('should fail without sent for a non-receipt code', () => {
    const plan = planLifecycle(config({ failRate: 1, failCode: 63016 }));
    expect(plan.map((event) => [event.status, event.errorCode])).toEqual([['failed', 63016]]);
  });

  it('should go sent then undelivered for a carrier receipt code', () => {
    const plan = planLifecycle(config({ failRate: 1, failCode: 30006 }));
    expect(plan.map((event) => [event.status, event.errorCode])).toEqual([
      ['sent', null],
      ['undelivered', 30006],
    ]);
  });

  it('should reverse callback times when reordering, keeping the truth in order', () => {
    const plan = planLifecycle(config({ reorderRate: 1, callbackDelayMs: { min: 10, max: 10 } }));
    expect(plan.map((event) => event.atMs)).toEqual([10, 20, 30]);
    expect(plan.map((event) => event.callbackAtMs)).toEqual([[30], [20], [10]]);
  });

  it('should drop all callbacks at dropRate 1 and double them at duplicateRate 1', () => {
    expect(
      planLifecycle(config({ dropRate: 1 })).every((event) => event.callbackAtMs.length === 0),
    ).toBe(true);
    expect(
      planLifecycle(config({ duplicateRate: 1 })).every((event) => event.callbackAtMs.length === 2),
    ).toBe(true);
  });

  it('should respect the delay bounds', () => {
    for (let i = 0; i < 100; i += 1) {
      const plan = planLifecycle(config({ callbackDelayMs: { min: 5, max: 9 } }));
      let previous = 0;
      for (const event of plan) {
        expect(event.atMs - previous).toBeGreaterThanOrEqual(5);
        expect(event.atMs - previous).toBeLessThanOrEqual(9);
        previous = event.atMs;
      }
    }
  });
});
