import type { CallbackPressureBoard } from '../../../redis/callback-pressure';
import type { DeliveryService } from '../delivery.service';
import { CallbackPressureReporter } from './callback-pressure.reporter';

// The api half of the pacing signal: what it reports is the callback writes' lag, or the event
// loop's worst delay since the last report when that is larger (the board, Redis, replaced).
describe('CallbackPressureReporter', () => {
  const reporter = (lagMs: number) => {
    const writes: number[] = [];
    const board = {
      write: (lag: number) => Promise.resolve(void writes.push(lag)),
      remove: () => Promise.resolve(),
    };
    const delivery = { callbackLagMs: () => lagMs };
    return {
      service: new CallbackPressureReporter(
        delivery as unknown as DeliveryService,
        board as unknown as CallbackPressureBoard,
      ),
      writes,
    };
  };

  it('should report the callback writes’ lag', async () => {
    const { service } = reporter(1_234);
    service.onApplicationBootstrap();
    try {
      expect(service.lagMs()).toBeGreaterThanOrEqual(1_234);
    } finally {
      await service.onModuleDestroy();
    }
  });

  it('should report a blocked event loop even when no write is waiting', async () => {
    const { service, writes } = reporter(0);
    service.onApplicationBootstrap();
    try {
      await new Promise((resolve) => setTimeout(resolve, 100)); // the histogram's timer runs
      const until = Date.now() + 300;
      while (Date.now() < until); // the loop blocked for 300 ms
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(Math.max(...writes)).toBeGreaterThanOrEqual(250);
    } finally {
      await service.onModuleDestroy();
    }
  });
});
