import type { ListenQueue } from '../../../common/http/listen-queue';
import type { CallbackPressureBoard } from '../../../redis/callback-pressure';
import type { DeliveryService } from '../delivery.service';
import { CallbackPressureReporter } from './callback-pressure.reporter';

// The api half of the pacing signal: it reports at least the callback writes' lag (the board,
// Redis, replaced). The event loop's part is Node's histogram, timing-dependent: not asserted here.
describe('CallbackPressureReporter', () => {
  const reporter = (lagMs: number, acceptWaitMs = 0) => {
    const writes: number[] = [];
    const board = {
      write: (lag: number) => Promise.resolve(void writes.push(lag)),
      remove: () => Promise.resolve(),
    };
    const delivery = { callbackLagMs: () => lagMs };
    const listenQueue = {
      waitMs: () => acceptWaitMs,
      sample: () => Promise.resolve(),
      stop: () => undefined,
    };
    return {
      service: new CallbackPressureReporter(
        delivery as unknown as DeliveryService,
        board as unknown as CallbackPressureBoard,
        listenQueue as unknown as ListenQueue,
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

  it('should report the accept queue’s wait when it is the longer', async () => {
    const { service } = reporter(20, 4_000);
    service.onApplicationBootstrap();
    try {
      expect(service.pressureMs()).toBeGreaterThanOrEqual(4_000);
    } finally {
      await service.onModuleDestroy();
    }
  });
});
