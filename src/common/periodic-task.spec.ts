import { setTimeout as sleep } from 'node:timers/promises';
import { inBatches, PeriodicService, PeriodicTask } from './periodic-task';

describe('PeriodicTask', () => {
  it('should never run twice at once, log failures and keep going, and wait for the run in flight on stop', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    let runs = 0;
    const warn = jest.fn();
    const task = new PeriodicTask(
      'test',
      async () => {
        concurrent += 1;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        runs += 1;
        await sleep(30);
        concurrent -= 1;
        if (runs === 1) throw new Error('first run fails');
      },
      { warn },
    );
    task.start(5);
    await sleep(120);
    await task.stop();
    expect(maxConcurrent).toBe(1);
    expect(runs).toBeGreaterThan(1);
    expect(concurrent).toBe(0);
    expect(warn).toHaveBeenCalledWith(
      { task: 'test', reason: 'first run fails' },
      'Background task failed',
    );
    const after = runs;
    await sleep(30);
    expect(runs).toBe(after);
  });
});

describe('inBatches', () => {
  it('should repeat a bounded step until one touches fewer rows than the limit, and add them up', async () => {
    const touched = [3, 3, 1, 3];
    const limits: number[] = [];
    const total = await inBatches((limit) => {
      limits.push(limit);
      return Promise.resolve(touched.shift() ?? 0);
    }, 3);
    expect(total).toBe(7);
    expect(limits).toEqual([3, 3, 3]);
  });
});

describe('PeriodicService', () => {
  class Counting extends PeriodicService {
    protected readonly logger = { warn: jest.fn() };
    protected readonly taskName = 'counting';
    started = 0;
    finished = 0;

    protected schedule() {
      return { everyMs: 10, firstAfterMs: 1 };
    }

    async runOnce(): Promise<number> {
      this.started += 1;
      await sleep(200);
      this.finished += 1;
      return this.finished;
    }
  }

  it('should start its task at bootstrap, wait for the pass in flight at shutdown, then run no more', async () => {
    const service = new Counting();
    service.onApplicationBootstrap();
    for (let waited = 0; service.started === 0 && waited < 2_000; waited += 5) await sleep(5);
    expect(service.started).toBe(1);
    expect(service.finished).toBe(0);
    await service.onModuleDestroy();
    expect(service.finished).toBe(1);
    await sleep(50);
    expect(service.started).toBe(1);
  });
});
