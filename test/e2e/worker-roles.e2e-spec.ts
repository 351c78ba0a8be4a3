import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { ReconcilerService } from '../../src/modules/delivery/reconcile/reconciler.service';
import { RetentionService } from '../../src/modules/delivery/reconcile/retention.service';
import { OutboundProcessor } from '../../src/modules/messaging/outbound.processor';
import { OutboundQueue } from '../../src/modules/messaging/outbound.queue';
import { SweeperService } from '../../src/modules/messaging/sweeper.service';
import { QueueName } from '../../src/queue/queue.constants';
import { WorkerConnection } from '../../src/queue/worker-connection';
import { TcpProxy } from '../support/tcp-proxy';
import { startTestApp, testConfig, type TestApp } from '../support/test-app';
import { REDIS_URL } from '../support/test-env';

/** What only the worker roles load (WorkerModule). */
const WORKER_PARTS = [
  OutboundProcessor,
  SweeperService,
  ReconcilerService,
  RetentionService,
  WorkerConnection,
];

/**
 * This app's BullMQ worker connections in Redis: a Worker's blocking connection is named
 * `<queue prefix>:<base64 queue name>`, and every test app has its own queue prefix.
 */
async function workerClients(test: TestApp): Promise<number> {
  const name = `${test.config.redis.queuePrefix}:${Buffer.from(QueueName.Outbound).toString('base64')}`;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const list = (await redis.client('LIST')) as string;
    return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
  } finally {
    redis.disconnect();
  }
}

/** The gauges every role serves, with their names and labels as dashboards know them. */
async function expectGauges(test: TestApp): Promise<void> {
  const res = await test.app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  for (const pattern of [
    /^# TYPE whatsapp_queue_jobs gauge$/m,
    /^whatsapp_queue_jobs\{state="waiting"\} \d+$/m,
    /^# TYPE whatsapp_messages_stuck gauge$/m,
    /^whatsapp_messages_stuck \d+$/m,
    /^# TYPE whatsapp_dependency_up gauge$/m,
    /^whatsapp_dependency_up\{dependency="postgres"\} 1$/m,
    /^whatsapp_dependency_up\{dependency="redis"\} 1$/m,
  ]) {
    expect(res.body).toMatch(pattern);
  }
}

describe('what each ROLE runs', () => {
  it('should load no processor, sweeper, reconciler or retention in the api role, and open no worker connection', async () => {
    const test = await startTestApp({ ROLE: 'api' });
    try {
      for (const part of WORKER_PARTS) {
        expect(() => test.app.get(part, { strict: false })).toThrow();
      }
      // Sends are still queued: the producer lives in every role.
      expect(await test.app.get(OutboundQueue, { strict: false }).enqueue(randomUUID(), 1)).toBe(
        true,
      );
      expect(await workerClients(test)).toBe(0);
      await expectGauges(test);
    } finally {
      await test.close();
    }
  });

  it('should run the processor with the configured concurrency and send budget in the worker role, and serve health and /metrics', async () => {
    const config = testConfig({ ROLE: 'worker', TWILIO_MPS: '2' });
    config.sending.workerConcurrency = 3;
    const test = await startTestApp({}, config);
    try {
      const { worker } = test.app.get(OutboundProcessor, { strict: false });
      expect(worker.concurrency).toBe(3);
      expect(worker.opts.limiter).toBeUndefined();
      // A crashed worker's jobs come back within seconds, not BullMQ's minute.
      expect(worker.opts).toMatchObject({ lockDuration: 10_000, stalledInterval: 5_000 });
      expect(worker.opts.prefix).toBe(config.redis.queuePrefix);
      expect(worker.isRunning()).toBe(true);
      await worker.waitUntilReady();
      expect(await workerClients(test)).toBeGreaterThan(0);

      // Every job draws from the send budget: six jobs at two a second are spaced 500 ms apart,
      // 2.5 s from the first to the last. (Their messages do not exist, so each job does nothing.)
      const done = await sixJobs(test);
      expect(done[5] - done[0]).toBeGreaterThanOrEqual(2000);

      const live = await test.app.inject({ method: 'GET', url: '/api/v1/health/live' });
      expect(live.statusCode).toBe(200);
      await expectGauges(test);
    } finally {
      await test.close();
    }
  });

  it('should serve the API and run the processor in the all role', async () => {
    const test = await startTestApp({ ROLE: 'all' });
    try {
      const { worker } = test.app.get(OutboundProcessor, { strict: false });
      expect(worker.isRunning()).toBe(true);
      const send = await test.app.inject({
        method: 'POST',
        url: '/api/v1/whatsapp/send',
        payload: {},
      });
      expect(send.statusCode).toBe(401);
    } finally {
      await test.close();
    }
  });

  it('should reserve no sender slots when TWILIO_MPS is 0', async () => {
    const test = await startTestApp({ ROLE: 'worker', TWILIO_MPS: '0' });
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const { worker } = test.app.get(OutboundProcessor, { strict: false });
      expect(worker.concurrency).toBe(test.config.sending.workerConcurrency);
      await worker.waitUntilReady();
      await sixJobs(test);
      expect(await redis.keys(`${test.config.redis.keyPrefix}{send-budget:*}:next`)).toEqual([]);
    } finally {
      redis.disconnect();
      await test.close();
    }
  });
});

/** Six jobs for messages that do not exist (each does nothing): when each finished. */
async function sixJobs(test: TestApp): Promise<number[]> {
  const { worker } = test.app.get(OutboundProcessor, { strict: false });
  const done: number[] = [];
  worker.on('completed', () => done.push(Date.now()));
  worker.on('failed', () => done.push(Date.now()));
  const queue = test.app.get(OutboundQueue, { strict: false });
  for (let i = 0; i < 6; i += 1) expect(await queue.enqueue(randomUUID(), 1)).toBe(true);
  for (let i = 0; i < 200 && done.length < 6; i += 1) await sleep(50);
  expect(done).toHaveLength(6);
  return done;
}

describe('a worker shutting down while Redis is away', () => {
  it('should close at once instead of waiting for Redis', async () => {
    const redis = new URL(REDIS_URL);
    const proxy = await new TcpProxy(redis.hostname, Number(redis.port || 6379)).start();
    try {
      const test = await startTestApp({ ROLE: 'worker', REDIS_URL: proxy.rewrite(REDIS_URL) });
      const { worker } = test.app.get(OutboundProcessor, { strict: false });
      await worker.waitUntilReady();
      proxy.cut();
      const connection = test.app.get(WorkerConnection, { strict: false });
      for (let i = 0; i < 100 && connection.ready; i += 1) await sleep(50);
      expect(connection.ready).toBe(false);
      const started = Date.now();
      await test.close();
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await proxy.stop();
    }
  });
});
