import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Counter, Registry } from 'prom-client';
import { SendBudget } from '../../src/modules/messaging/budget/send-budget';
import { CALLBACK_LAG_HOLD_MS } from '../../src/modules/messaging/budget/send-pacing';
import { CallbackPressureBoard } from '../../src/redis/callback-pressure';
import { testConfig } from '../support/test-app';
import { deleteRedisKeys, REDIS_URL } from '../support/test-env';

// The send budget on the real Redis: two "replicas" (two SendBudget instances, two clients)
// share one sender's rate; a back-off pauses the sender for both; a callback report over the
// threshold holds every send until it clears, and the time held is counted.

describe('the send budget', () => {
  const prefix = `test-budget-${randomUUID().slice(0, 8)}:`;
  const clients: Redis[] = [];

  const replica = (mps: number) => {
    const redis = new Redis(REDIS_URL, { keyPrefix: prefix, maxRetriesPerRequest: 1 });
    clients.push(redis);
    const config = testConfig({ TWILIO_MPS: String(mps) });
    const registry = new Registry();
    const paced = new Counter({
      name: 'whatsapp_send_paced_seconds_total',
      help: 'test',
      labelNames: ['reason'],
      registers: [registry],
    });
    const board = new CallbackPressureBoard(redis);
    return { budget: new SendBudget(config, redis, board, paced), board, paced };
  };

  const pacedSeconds = async (paced: Counter<'reason'>, reason: string) =>
    (await paced.get()).values.find((value) => value.labels.reason === reason)?.value ?? 0;

  afterAll(async () => {
    clients.forEach((client) => client.disconnect());
    await deleteRedisKeys(prefix);
  });

  it('should space one sender’s sends across replicas at TWILIO_MPS', async () => {
    const rate = 50;
    const [a, b] = [replica(rate), replica(rate)];
    const sender = `whatsapp:+1415555${Math.floor(Math.random() * 10_000)}`;
    const started = Date.now();
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        (index % 2 === 0 ? a : b).budget.take(sender).then(() => done.push(Date.now())),
      ),
    );
    done.sort((x, y) => x - y);
    // 40 slots 20 ms apart: the last one 780 ms after the first (timers never fire early).
    expect(done[39] - started).toBeGreaterThanOrEqual(39 * (1000 / rate) - 5);
    expect(
      (await pacedSeconds(a.paced, 'mps')) + (await pacedSeconds(b.paced, 'mps')),
    ).toBeGreaterThan(0);
    // Another sender has a budget of its own.
    const other = Date.now();
    await a.budget.take(`${sender}-other`);
    expect(Date.now() - other).toBeLessThan(done[39] - started);
  });

  it('should pause a sender on every replica after a back-off, TWILIO_MPS=0 included', async () => {
    const [a, b] = [replica(1000), replica(0)];
    const sender = `whatsapp:+1415556${Math.floor(Math.random() * 10_000)}`;
    await a.budget.backOff(sender, 600);
    const started = Date.now();
    await b.budget.take(sender);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });

  it('should hold sends while an api process reports its callbacks behind, and count the time', async () => {
    const api = replica(0);
    const worker = replica(0);
    await api.board.write(CALLBACK_LAG_HOLD_MS * 2);
    let sent = false;
    const take = worker.budget.take('whatsapp:+14155550000').then(() => {
      sent = true;
    });
    await sleep(600);
    expect(sent).toBe(false);
    await api.board.write(5);
    await take;
    expect(sent).toBe(true);
    expect(await pacedSeconds(worker.paced, 'callbacks')).toBeGreaterThanOrEqual(0.5);
    expect(await pacedSeconds(worker.paced, 'mps')).toBe(0);
  });

  it('should ignore a report its process stopped renewing', async () => {
    const api = replica(0);
    const worker = replica(0);
    await api.board.write(CALLBACK_LAG_HOLD_MS * 10, Date.now() - 60_000);
    await worker.budget.take('whatsapp:+14155550001');
    expect(await pacedSeconds(worker.paced, 'callbacks')).toBe(0);
    await api.board.remove();
  });
});
