import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { FETCH_SLOTS, FetchSlots } from '../../src/modules/delivery/reconcile/fetch-slots';
import { deleteRedisKeys, REDIS_URL } from '../support/test-env';

// The reconciler's fetch slots on the real Redis: two "replicas" (two FetchSlots, two clients)
// never run more than FETCH_SLOTS fetches at once between them, and a 20429 back-off taken by
// one holds the other too.

describe('the fetch slots', () => {
  const prefix = `test-slots-${randomUUID().slice(0, 8)}:`;
  const clients: Redis[] = [];
  const replica = () => {
    const redis = new Redis(REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: 1 });
    clients.push(redis);
    return new FetchSlots(redis);
  };

  afterAll(async () => {
    clients.forEach((client) => client.disconnect());
    await deleteRedisKeys(prefix);
  });

  it('should keep at most FETCH_SLOTS fetches in flight across replicas, and run them all', async () => {
    const [a, b] = [replica(), replica()];
    let inFlight = 0;
    let most = 0;
    const fetch = async () => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await sleep(30);
      inFlight -= 1;
      return 1;
    };
    const done = await Promise.all(
      Array.from({ length: 40 }, (_, index) => (index % 2 === 0 ? a : b).run(fetch)),
    );
    expect(done).toHaveLength(40);
    expect(most).toBe(FETCH_SLOTS);
  });

  it('should free the slot of a fetch that failed', async () => {
    const slots = replica();
    for (let i = 0; i < FETCH_SLOTS * 2; i += 1) {
      await expect(slots.run(() => Promise.reject(new Error('no answer')))).rejects.toThrow();
    }
    await expect(slots.run(() => Promise.resolve('answered'))).resolves.toBe('answered');
  });

  it('should hold every replica during a back-off', async () => {
    const [a, b] = [replica(), replica()];
    await a.backOff(600);
    const started = Date.now();
    await b.run(() => Promise.resolve());
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });
});
