import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Counter } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import type { DataSource } from 'typeorm';
import type { OutboxRepository } from '../../src/modules/delivery/outbox/outbox.repository';
import { EventLogReader } from '../../src/modules/delivery/queries/event-log.reader';
import { DeliveriesRepository } from '../../src/modules/events/dispatch/deliveries.repository';
import type { Resolver } from '../../src/modules/events/dispatch/destination-guard';
import { EventDispatcher } from '../../src/modules/events/dispatch/event-dispatcher.service';
import { newWebhookSecret } from '../../src/modules/events/dispatch/webhook-signature';
import { WebhookSender } from '../../src/modules/events/dispatch/webhook-sender';
import { SubscriptionsRepository } from '../../src/modules/events/subscriptions/subscriptions.repository';
import { EventReceiver } from '../support/event-receiver';
import { insertSender, openWriters, outboundMessage } from '../support/outbox-fixtures';
import { testDatabaseUrl } from '../support/test-env';
import { testConfig } from '../support/test-app';

// The dispatcher and the sender on the real database, without an app: a dispatcher that dies
// with a delivery in flight, and the address checks at connection time.

const resolverOf =
  (table: Record<string, string>): Resolver =>
  (hostname) =>
    table[hostname]
      ? Promise.resolve([{ address: table[hostname], family: 4 }])
      : Promise.reject(new Error(`ENOTFOUND ${hostname}`));

describe('event dispatch on the real database', () => {
  let dataSource: DataSource;
  let outbox: OutboxRepository;
  let deliveries: DeliveriesRepository;
  let subscriptions: SubscriptionsRepository;
  let userId: string;
  const created: string[] = [];
  const receivers: EventReceiver[] = [];

  beforeAll(async () => {
    ({ dataSource, outbox } = await openWriters(testDatabaseUrl()));
    deliveries = new DeliveriesRepository(dataSource);
    subscriptions = new SubscriptionsRepository(dataSource);
    userId = await insertSender(dataSource, 'event-dispatch');
  });

  afterAll(async () => {
    await dataSource.query('DELETE FROM event_subscriptions WHERE id = ANY($1)', [created]);
    await Promise.all(receivers.map((receiver) => receiver.stop()));
    await dataSource.destroy();
  });

  const dispatcher = (env: Record<string, string> = {}) => {
    const config = testConfig({
      EVENTS_ALLOW_PRIVATE: 'on',
      EVENTS_RETRY_SCHEDULE: '0.05',
      ...env,
    });
    const counter = new Counter({ name: 'd', help: 'd', labelNames: ['result'], registers: [] });
    const disabled = new Counter({ name: 'x', help: 'x', labelNames: ['reason'], registers: [] });
    return new EventDispatcher(
      deliveries,
      new EventLogReader(dataSource, dataSource),
      config,
      counter,
      disabled,
      null,
    );
  };

  /** A subscription to `message.status`, deleted after the file unless `keep` (the test deletes it). */
  const subscribe = async (
    url: string,
    options: { rateLimit?: number; secret?: string; keep?: boolean } = {},
  ) => {
    const subscription = await subscriptions.create({
      url,
      events: ['message.status'],
      description: null,
      rateLimit: options.rateLimit ?? null,
      secret: options.secret ?? newWebhookSecret(),
      createdBy: null,
    });
    if (!options.keep) created.push(subscription.id);
    return subscription;
  };

  /** One accepted message: one `message.status` event. */
  const oneEvent = async (): Promise<string> => {
    const [id] = await outbox.createPendingMany([outboundMessage(userId)]);
    const [claimed] = await outbox.claimForSendMany([{ id, staleMs: 30_000 }]);
    await outbox.recordAcceptedMany([
      {
        id,
        attempt: claimed?.attempt ?? 0,
        answer: {
          sid: `SM${randomBytes(16).toString('hex')}`,
          status: 'queued',
          errorCode: null,
          errorMessage: null,
        },
      },
    ]);
    return id;
  };

  it('should deliver again, at least once, what a dispatcher held when it died', async () => {
    const hooks = await new EventReceiver().start();
    receivers.push(hooks);
    const secret = newWebhookSecret();
    const subscription = await subscriptions.create({
      url: hooks.url,
      events: ['message.status'],
      description: null,
      rateLimit: null,
      secret,
      createdBy: null,
    });
    created.push(subscription.id);
    const messageId = await oneEvent();
    await deliveries.fanOut(subscription.id, 500);
    // A dispatcher claims it (a short lease) and dies before sending anything.
    const [held] = await deliveries.claim(subscription.id, 16, 200);
    expect(held).toMatchObject({ attempt: 1, kind: 'event' });
    const alive = dispatcher();
    await alive.runRound();
    await alive.idle();
    expect(hooks.received).toHaveLength(0); // still leased to the dead one
    await new Promise((resolve) => setTimeout(resolve, 250));
    await alive.runRound();
    await alive.idle();
    await alive.onApplicationShutdown();
    expect(hooks.received).toHaveLength(1);
    const [event] = hooks.received;
    expect(event.json.data.messageId).toBe(messageId);
    expect(() =>
      new Webhook(secret).verify(event.body, {
        'webhook-id': String(event.headers['webhook-id']),
        'webhook-timestamp': String(event.headers['webhook-timestamp']),
        'webhook-signature': String(event.headers['webhook-signature']),
      }),
    ).not.toThrow();
    const [row] = await deliveries.page(subscription.id, 'succeeded', 10, undefined);
    expect(row).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(row.history.map((entry) => entry.attempt)).toEqual([2]);
  });

  it('should disable a subscription that has failed for EVENTS_DISABLE_AFTER without a success', async () => {
    const subscription = await subscribe('http://127.0.0.1:9/refused');
    await oneEvent();
    const failing = dispatcher({
      EVENTS_DISABLE_AFTER: '1',
      EVENTS_RETRY_SCHEDULE: Array<string>(20).fill('0.1').join(','),
    });
    const deadline = Date.now() + 10_000;
    let row = await subscriptions.find(subscription.id);
    while (row?.disabledAt === null && Date.now() < deadline) {
      await failing.runRound();
      await failing.idle();
      await new Promise((resolve) => setTimeout(resolve, 100));
      row = await subscriptions.find(subscription.id);
    }
    await failing.onApplicationShutdown();
    expect(row).toMatchObject({
      disabledAt: expect.any(Date),
      disabledReason: 'every delivery failed for EVENTS_DISABLE_AFTER',
    });
    // Its delivery waits, with every attempt logged.
    const [waiting] = await deliveries.page(subscription.id, 'pending', 10, undefined);
    expect(waiting.attempts).toBeGreaterThan(1);
    expect(waiting.history.every((entry) => entry.error?.startsWith('ECONNREFUSED'))).toBe(true);
  });

  it('should record an attempt whose subscription was deleted meanwhile as stale, without failing', async () => {
    const subscription = await subscribe('http://127.0.0.1:9/gone', { keep: true });
    await oneEvent();
    await deliveries.fanOut(subscription.id, 500);
    const [held] = await deliveries.claim(subscription.id, 16, 60_000);
    await subscriptions.delete(subscription.id);
    const verdicts = await deliveries.record(
      [
        {
          delivery: held,
          result: { kind: 'response', status: 200, retryAfterSeconds: null },
          startedAt: new Date(),
          durationMs: 5,
        },
      ],
      { scheduleMs: [50], jitter: 0, maxRetryAfterMs: 1000, disableAfterMs: 60_000 },
    );
    expect(verdicts).toEqual([
      { deliveryId: held.id, subscriptionId: subscription.id, result: 'stale', disabled: null },
    ]);
  });

  it('should resend only an event already fanned out to the subscription (never ahead of its lane)', async () => {
    const subscription = await subscribe('http://127.0.0.1:9/resend');
    const messageId = await oneEvent();
    const [{ id: eventRowId }] = await dataSource.query<{ id: string }[]>(
      'SELECT id::text FROM events WHERE message_id = $1',
      [messageId],
    );
    expect(await deliveries.resend(subscription.id, eventRowId)).toBe(false);
    await deliveries.fanOut(subscription.id, 500);
    expect(await deliveries.resend(subscription.id, eventRowId)).toBe(true);
    const rows = await dataSource.query<{ id: string }[]>(
      'SELECT id FROM event_deliveries WHERE subscription_id = $1 AND event_id = $2',
      [subscription.id, eventRowId],
    );
    expect(rows).toHaveLength(2);
    expect(await deliveries.resend('00000000-0000-0000-0000-000000000000', eventRowId)).toBeNull();
  });

  it('should keep at most EVENTS_MAX_IN_FLIGHT deliveries of a subscription in flight', async () => {
    const subscription = await subscribe('http://127.0.0.1:9/never');
    for (let i = 0; i < 5; i += 1) await oneEvent();
    await deliveries.fanOut(subscription.id, 500);
    expect(await deliveries.claim(subscription.id, 3, 60_000)).toHaveLength(3);
    expect(await deliveries.claim(subscription.id, 3, 60_000)).toHaveLength(0);
    expect(await deliveries.claim(subscription.id, 5, 60_000)).toHaveLength(2);
  });

  it('should hand out a rate-limited subscription no more than its tokens', async () => {
    const subscription = await subscribe('http://127.0.0.1:9/never', { rateLimit: 2 });
    for (let i = 0; i < 5; i += 1) await oneEvent();
    await deliveries.fanOut(subscription.id, 500);
    expect(await deliveries.claim(subscription.id, 16, 60_000)).toHaveLength(2);
    expect(await deliveries.claim(subscription.id, 16, 60_000)).toHaveLength(0);
  });
});

describe('the webhook sender', () => {
  let receiver: EventReceiver;
  let silent: Server;
  let redirect: Server;
  const port = (server: Server) => (server.address() as { port: number }).port;

  beforeAll(async () => {
    receiver = await new EventReceiver().start();
    silent = createServer(() => undefined);
    redirect = createServer((_request, response) => {
      response.writeHead(302, { location: receiver.url }).end();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => redirect.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await receiver.stop();
    silent.closeAllConnections();
    redirect.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
    await new Promise((resolve) => redirect.close(resolve));
  });

  const sender = (allowPrivate: boolean, timeoutMs = 2_000) =>
    new WebhookSender({
      policy: { allowPrivate },
      resolver: resolverOf({ 'rebind.test': '127.0.0.1', 'public.test': '93.184.216.34' }),
      timeoutMs,
      maxSockets: 4,
    });

  it('should refuse a name that resolves to loopback when it connects (DNS rebinding)', async () => {
    const strict = sender(false);
    const before = receiver.received.length;
    expect(await strict.post('https://rebind.test/hooks', {}, '{}')).toEqual({
      kind: 'error',
      reason: expect.stringMatching(
        /^refused: rebind\.test resolves to an address that is not public/,
      ),
    });
    expect(await strict.post('http://127.0.0.1:9/hooks', {}, '{}')).toMatchObject({
      kind: 'error',
      reason: expect.stringMatching(/^refused/),
    });
    expect(receiver.received.length).toBe(before);
    strict.close();
  });

  it('should connect to the address its resolver gave when private addresses are allowed', async () => {
    const open = sender(true);
    const url = receiver.url.replace('127.0.0.1', 'rebind.test');
    expect(await open.post(url, { 'webhook-id': 'evt_1' }, '{"a":1}')).toEqual({
      kind: 'response',
      status: 200,
      retryAfterSeconds: null,
    });
    expect(receiver.received.at(-1)?.headers['webhook-id']).toBe('evt_1');
    open.close();
  });

  it('should give up on a receiver that never answers within the timeout', async () => {
    const open = sender(true, 200);
    const started = Date.now();
    const result = await open.post(`http://127.0.0.1:${port(silent)}/`, {}, '{}');
    expect(result).toMatchObject({ kind: 'error', reason: expect.stringContaining('no answer') });
    expect(Date.now() - started).toBeLessThan(2_000);
    open.close();
  });

  it('should not follow a redirect', async () => {
    const open = sender(true);
    const before = receiver.received.length;
    expect(await open.post(`http://127.0.0.1:${port(redirect)}/`, {}, '{}')).toMatchObject({
      kind: 'response',
      status: 302,
    });
    expect(receiver.received.length).toBe(before);
    open.close();
  });

  it('should read Retry-After', async () => {
    receiver.respond = () => ({ status: 429, headers: { 'retry-after': '7' } });
    const open = sender(true);
    expect(await open.post(receiver.url, {}, '{}')).toEqual({
      kind: 'response',
      status: 429,
      retryAfterSeconds: 7,
    });
    receiver.respond = () => 200;
    open.close();
  });
});
