import type { CallbackPressureBoard } from '../../../redis/callback-pressure';
import type { DeliveryService } from '../delivery.service';
import { CallbackPressureReporter } from './callback-pressure.reporter';

// The api half of the pacing signal: it reports at least the callback writes' lag (the board,
// Redis, replaced). The event loop's part is Node's histogram, timing-dependent: not asserted here.
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
});
