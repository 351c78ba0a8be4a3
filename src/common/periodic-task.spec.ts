import { setTimeout as sleep } from 'node:timers/promises';
import { PeriodicTask } from './periodic-task';

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
