import type { AppConfig } from '../../../config/app-config';
import { TwilioApiError, TwilioNetworkError } from '../../twilio/twilio.errors';
import type { TwilioClient } from '../../twilio/twilio.client';
import type { DeliveryService } from '../delivery.service';
import type { DeliveryMetricsService } from '../stats/delivery-metrics.service';
import type { FetchSlots } from './fetch-slots';
import type { ReconcileRepository } from './reconcile.repository';
import { ReconcilerService } from './reconciler.service';

// What the reconciler does with each kind of answer (the adapters — Twilio, the repositories,
// the slots — replaced): an answer is written, a refusal is marked looked at, and "slow down"
// or no answer gives the lease back, 20429 with a back-off for every replica.

describe('ReconcilerService.lookAt', () => {
  const chunk = ['a', 'b', 'c', 'd'].map((id) => ({ id, sid: `SM${id}`, leasedAt: 'now' }));

  function reconciler(answers: Record<string, unknown>) {
    const twilio = {
      fetchMessage: jest.fn((sid: string) => {
        const answer = answers[sid];
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      }),
    };
    const delivery = {
      applyStatusEvents: jest.fn((events: unknown[]) =>
        Promise.resolve(events.map(() => ({ outcome: 'applied' }))),
      ),
      markReconciled: jest.fn(() => Promise.resolve()),
    };
    const due = { release: jest.fn(() => Promise.resolve()) };
    const slots = {
      run: jest.fn((fetch: () => Promise<unknown>) => fetch()),
      backOff: jest.fn(() => Promise.resolve()),
      answered: jest.fn(),
    };
    const service = new ReconcilerService(
      {} as AppConfig,
      due as unknown as ReconcileRepository,
      twilio as unknown as TwilioClient,
      delivery as unknown as DeliveryService,
      {} as DeliveryMetricsService,
      slots as unknown as FetchSlots,
    );
    return { service, delivery, due, slots };
  }

  it('should write answers, mark refusals looked at, and give back leases Twilio would not answer for now', async () => {
    const { service, delivery, due, slots } = reconciler({
      SMa: { status: 'read', errorCode: null, errorMessage: null },
      SMb: new TwilioApiError(404, 20404, 'not found', undefined, undefined),
      SMc: new TwilioApiError(429, 20429, 'Too Many Requests', 2, undefined),
      SMd: new TwilioNetworkError('timeout', 'timeout'),
    });
    const looked = await service.lookAt(chunk);
    expect(looked).toEqual({ applied: 1, released: 2, throttled: true });
    expect(delivery.applyStatusEvents).toHaveBeenCalledWith([
      expect.objectContaining({ messageId: 'a', status: 'read', source: 'reconciler' }),
    ]);
    expect(delivery.markReconciled).toHaveBeenCalledWith(['b']);
    expect(due.release).toHaveBeenCalledWith(['c', 'd']);
    expect(slots.backOff).toHaveBeenCalledTimes(1);
    expect(slots.backOff).toHaveBeenCalledWith(2_000);
    expect(slots.run).toHaveBeenCalledTimes(4);
  });

  it('should not back off for a timeout alone', async () => {
    const { service, slots, due } = reconciler({
      SMa: new TwilioNetworkError('timeout', 'timeout'),
      SMb: { status: 'delivered', errorCode: null, errorMessage: null },
      SMc: { status: 'sent', errorCode: null, errorMessage: null },
      SMd: new TwilioApiError(503, undefined, 'unavailable', undefined, undefined),
    });
    expect(await service.lookAt(chunk)).toEqual({ applied: 2, released: 2, throttled: false });
    expect(slots.backOff).not.toHaveBeenCalled();
    expect(due.release).toHaveBeenCalledWith(['a', 'd']);
  });
});
