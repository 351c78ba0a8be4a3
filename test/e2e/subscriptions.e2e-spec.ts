import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { createUser, type TestUser } from '../factories/users.factory';
import { EventReceiver, type ReceivedEvent } from '../support/event-receiver';
import { Stack } from '../support/stack';
import { randomBytes } from 'node:crypto';
import { spawnApp, waitForListening, type AppProcess } from '../support/app-process';
import { SIM_ACCOUNT_SID, SIM_AUTH_TOKEN } from '../support/simulator';
import { deleteRedisKeys, REDIS_URL, testDatabaseUrl } from '../support/test-env';

const newNumber = () => `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

interface Subscription {
  id: string;
  url: string;
  events: string[];
  disabled: boolean;
  disabledAt: string | null;
  disabledReason: string | null;
  secret?: string;
}

/** Whether the event verifies under `secret` with the standardwebhooks package (not our code). */
function verifies(event: ReceivedEvent, secret: string): boolean {
  try {
    new Webhook(secret).verify(event.body, {
      'webhook-id': String(event.headers['webhook-id']),
      'webhook-timestamp': String(event.headers['webhook-timestamp']),
      'webhook-signature': String(event.headers['webhook-signature']),
    });
    return true;
  } catch {
    return false;
  }
}

// Retries every 50–200 ms, 20 of them (~3.7 s), so a test can hold a lane's head failing.
const FAST_RETRIES = [0.05, 0.1, ...Array<number>(18).fill(0.2)].join(',');

describe('event subscriptions', () => {
  let stack: Stack;
  let admin: string;
  let viewer: TestUser;
  const receivers: EventReceiver[] = [];
  const created: string[] = [];

  beforeAll(async () => {
    stack = await Stack.start(
      { WINDOW_CHECK: 'off', EVENTS_ALLOW_PRIVATE: 'on', EVENTS_RETRY_SCHEDULE: FAST_RETRIES },
      // Twilio's callbacks shuffled and repeated: late and repeated ones must send nothing.
      { reorderRate: 0.5, duplicateRate: 0.5 },
      { listen: true },
    );
    admin = await stack.adminToken();
    viewer = await createUser(stack.app, 'viewer');
  });

  afterAll(async () => {
    await stack.db.query('DELETE FROM event_subscriptions WHERE id = ANY($1)', [created]);
    await Promise.all(receivers.map((receiver) => receiver.stop()));
    await stack.close();
  });

  const request = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
    token = admin,
  ) =>
    stack.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

  const receiver = async (): Promise<EventReceiver> => {
    const started = await new EventReceiver().start();
    receivers.push(started);
    return started;
  };

  const subscribe = async (url: string, events = ['message.status', 'message.inbound']) => {
    const res = await request('POST', '/api/v1/subscriptions', { url, events });
    expect(res.statusCode).toBe(201);
    const subscription = res.json<Subscription & { secret: string }>();
    created.push(subscription.id);
    return subscription;
  };

  /** A message sent and driven to `read`; its id. */
  const sendToRead = async (to = newNumber()): Promise<string> => {
    const id = (await stack.send({ to, message: 'hello' })).json<{ id: string }>().id;
    await stack.waitFor(id, (row) => row.status === 'read');
    return id;
  };

  /** The message's events as the feed has them (what the subscription must receive). */
  const feedEvents = async (messageId: string) => {
    const rows = await stack.db.query<{ id: string; sequence: number }[]>(
      'SELECT id::text, sequence FROM events WHERE message_id = $1 ORDER BY sequence',
      [messageId],
    );
    return rows.map((row) => ({ id: `evt_${row.id}`, sequence: row.sequence }));
  };

  const of = (events: ReceivedEvent[], messageId: string) =>
    events.filter((event) => event.json.data.messageId === messageId);

  it('should create, show, change and delete a subscription, the secret shown once', async () => {
    const created = await subscribe('http://127.0.0.1:9/x', ['message.status']);
    expect(created).toEqual({
      id: expect.any(String),
      url: 'http://127.0.0.1:9/x',
      events: ['message.status'],
      description: null,
      rateLimit: null,
      disabled: false,
      disabledAt: null,
      disabledReason: null,
      createdAt: expect.any(String),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const { secret: _secret, ...shown } = created;
    expect((await request('GET', `/api/v1/subscriptions/${created.id}`)).json()).toEqual(shown);
    expect(
      (await request('GET', '/api/v1/subscriptions')).json<{ items: object[] }>().items,
    ).toContainEqual(shown);
    const patched = await request('PATCH', `/api/v1/subscriptions/${created.id}`, {
      events: ['message.status', 'message.inbound'],
      description: 'CRM',
      disabled: true,
    });
    expect(patched.json()).toMatchObject({
      events: ['message.status', 'message.inbound'],
      description: 'CRM',
      disabled: true,
      disabledAt: expect.any(String),
      disabledReason: 'disabled by an admin',
    });
    expect((await request('DELETE', `/api/v1/subscriptions/${created.id}`)).statusCode).toBe(204);
    expect((await request('GET', `/api/v1/subscriptions/${created.id}`)).statusCode).toBe(404);
    expect((await request('DELETE', `/api/v1/subscriptions/${created.id}`)).statusCode).toBe(404);
  });

  it.each([
    ['an ftp url', { url: 'ftp://x.example/y', events: ['message.status'] }, 'url'],
    ['no events', { url: 'http://127.0.0.1/x', events: [] }, 'events'],
    ['ping', { url: 'http://127.0.0.1/x', events: ['ping'] }, 'events'],
    [
      'a repeat',
      { url: 'http://127.0.0.1/x', events: ['message.status', 'message.status'] },
      'events',
    ],
    ['events missing', { url: 'http://127.0.0.1/x' }, 'events'],
    [
      'a 2 KB url',
      { url: `http://127.0.0.1/${'x'.repeat(2100)}`, events: ['message.status'] },
      'url',
    ],
  ])('should refuse %s with 400 on its field', async (_what, body, field) => {
    const res = await request('POST', '/api/v1/subscriptions', body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: expect.arrayContaining([expect.objectContaining({ field })]),
    });
  });

  it.each([
    ['events: null', { events: null }, 'events'],
    ['url: null', { url: null }, 'url'],
    ['disabled: null', { disabled: null }, 'disabled'],
    ['rateLimit: 0', { rateLimit: 0 }, 'rateLimit'],
  ])('should refuse a PATCH with %s as 400 on its field', async (_what, body, field) => {
    const subscription = await subscribe('http://127.0.0.1:9/x', ['message.status']);
    const res = await request('PATCH', `/api/v1/subscriptions/${subscription.id}`, body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: expect.arrayContaining([expect.objectContaining({ field })]),
    });
  });

  it.each(['2025-W01', 'yesterday', '2025-13-01T00:00:00Z'])(
    'should refuse a replay since %p as 400',
    async (since) => {
      const subscription = await subscribe('http://127.0.0.1:9/x', ['message.status']);
      const res = await request('POST', `/api/v1/subscriptions/${subscription.id}/replay`, {
        since,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    },
  );

  it('should be for admins only', async () => {
    const res = await request('GET', '/api/v1/subscriptions', undefined, viewer.token);
    expect(res.statusCode).toBe(403);
  });

  it("should deliver a message's changes in sequence order, signed, once each, matching the feed", async () => {
    const hooks = await receiver();
    const subscription = await subscribe(hooks.url);
    const id = await sendToRead();
    const expected = await feedEvents(id);
    // At least Twilio's answer and `read` (callbacks out of order may skip stages).
    expect(expected.length).toBeGreaterThanOrEqual(2);
    await hooks.waitUntil((received) => of(received, id).length >= expected.length);
    const received = of(hooks.received, id);
    expect(received.map((event) => event.json.id)).toEqual(expected.map((event) => event.id));
    // 1, 2, 3… : one per applied change, none for a late or repeated callback.
    expect(received.map((event) => event.json.data.sequence)).toEqual(
      expected.map((_event, index) => index + 1),
    );
    for (const event of received) {
      expect(verifies(event, subscription.secret)).toBe(true);
      expect(event.headers['webhook-id']).toBe(event.json.id);
      expect(event.headers['content-type']).toBe('application/json');
    }
    expect(received.at(-1)?.json.data.status).toBe('read');
    // The worker's own answer (`accepted`/`queued`) is an event too.
    expect(received[0].json.data.previousStatus).toBe('pending');
  });

  it('should deliver on the second attempt after a 500, with a fresh timestamp and the same id', async () => {
    const hooks = await receiver();
    // 500 to this message's first request only: the subscription also receives the events of
    // any other message written meanwhile (the suite shares one database, and this stack's
    // sweeper adopts what other files left pending). Known by its reference, set before the
    // send: its first event can arrive before the send's answer does.
    const reference = `retry-${randomUUID()}`;
    let failed = false;
    hooks.respond = (event) => {
      if (failed || event.json.data.reference !== reference) return 200;
      failed = true;
      return 500;
    };
    const subscription = await subscribe(hooks.url, ['message.status']);
    const id = (await stack.send({ to: newNumber(), message: 'hello', reference })).json<{
      id: string;
    }>().id;
    await stack.waitFor(id, (row) => row.status === 'read');
    const expected = await feedEvents(id);
    await hooks.waitUntil(() => of(hooks.accepted(), id).length >= expected.length);
    const [first, second] = of(hooks.received, id);
    expect(first.status).toBe(500);
    expect(second.json.id).toBe(first.json.id);
    expect(second.status).toBe(200);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(Number(second.headers['webhook-timestamp'])).toBeGreaterThanOrEqual(
      Number(first.headers['webhook-timestamp']),
    );
    expect(verifies(second, subscription.secret)).toBe(true);
    const attempts = await request(
      'GET',
      `/api/v1/subscriptions/${subscription.id}/attempts?status=succeeded&limit=200`,
    );
    const delivery = attempts
      .json<{ items: { webhookId: string; history: { result: string; statusCode: number }[] }[] }>()
      .items.find((item) => item.webhookId === first.json.id);
    expect(delivery?.history.map((entry) => [entry.result, entry.statusCode])).toEqual([
      ['retry', 500],
      ['succeeded', 200],
    ]);
  });

  it("should hold a message's later events behind a failing first one, not another message's, and resume in order", async () => {
    const hooks = await receiver();
    const subscription = await subscribe(hooks.url, ['message.status']);
    // Disabled while the messages are driven, so all their events are waiting when it resumes.
    await request('PATCH', `/api/v1/subscriptions/${subscription.id}`, { disabled: true });
    const [held, free] = [await sendToRead(), await sendToRead()];
    const heldEvents = await feedEvents(held);
    const freeEvents = await feedEvents(free);
    let failing = true;
    hooks.respond = (event) => (failing && event.json.id === heldEvents[0].id ? 503 : 200);
    const resumed = await request('PATCH', `/api/v1/subscriptions/${subscription.id}`, {
      disabled: false,
    });
    expect(resumed.json()).toMatchObject({ disabled: false, disabledAt: null });
    await hooks.waitUntil(
      () =>
        of(hooks.accepted(), free).length >= freeEvents.length &&
        hooks.received.filter((event) => event.json.id === heldEvents[0].id).length >= 2,
    );
    // The held message's first event was tried and failed; nothing after it was sent.
    expect(of(hooks.received, held).every((event) => event.json.id === heldEvents[0].id)).toBe(
      true,
    );
    failing = false;
    await hooks.waitUntil(() => of(hooks.accepted(), held).length >= heldEvents.length);
    expect(of(hooks.accepted(), held).map((event) => event.json.data.sequence)).toEqual(
      heldEvents.map((event) => event.sequence),
    );
  });

  it('should sign with both secrets during a rotation', async () => {
    const hooks = await receiver();
    const subscription = await subscribe(hooks.url, ['message.status']);
    const rotated = await request('POST', `/api/v1/subscriptions/${subscription.id}/rotate-secret`);
    expect(rotated.statusCode).toBe(201);
    const { secret } = rotated.json<{ secret: string }>();
    expect(secret).not.toBe(subscription.secret);
    const id = await sendToRead();
    await hooks.waitUntil((received) => of(received, id).length >= 1);
    const event = of(hooks.received, id)[0];
    expect(String(event.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifies(event, secret)).toBe(true);
    expect(verifies(event, subscription.secret)).toBe(true);
  });

  it('should disable a subscription whose receiver answers 410, and keep its deliveries', async () => {
    const hooks = await receiver();
    hooks.respond = () => 410;
    const subscription = await subscribe(hooks.url, ['message.status']);
    await sendToRead();
    await hooks.waitUntil((received) => received.length >= 1);
    await waitFor(
      async () =>
        (await request('GET', `/api/v1/subscriptions/${subscription.id}`)).json<Subscription>()
          .disabled,
    );
    expect((await request('GET', `/api/v1/subscriptions/${subscription.id}`)).json()).toMatchObject(
      {
        disabled: true,
        disabledReason: 'the receiver answered 410 Gone',
      },
    );
    const metrics = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(
      /^whatsapp_events_subscriptions_disabled_total\{reason="gone"\} [1-9]/m,
    );
    expect(metrics).toMatch(/^whatsapp_events_deliveries_total\{result="gone"\} [1-9]/m);
    const pending = await request(
      'GET',
      `/api/v1/subscriptions/${subscription.id}/attempts?status=pending`,
    );
    expect(pending.json<{ items: unknown[] }>().items.length).toBeGreaterThan(0);
  });

  it('should lose nothing when Redis is emptied while a delivery waits to be retried', async () => {
    const hooks = await receiver();
    let failing = true;
    hooks.respond = () => (failing ? 500 : 200);
    await subscribe(hooks.url, ['message.status']);
    const id = await sendToRead();
    const expected = await feedEvents(id);
    await hooks.waitUntil((received) => received.length >= 2);
    await deleteRedisKeys(stack.test.config.redis.keyPrefix);
    await deleteRedisKeys(stack.test.config.redis.queuePrefix);
    failing = false;
    await hooks.waitUntil(() => of(hooks.accepted(), id).length >= expected.length);
    expect(of(hooks.accepted(), id).map((event) => event.json.id)).toEqual(
      expected.map((e) => e.id),
    );
  });

  it('should send a ping that is not in the feed, and replay with the same webhook-ids', async () => {
    const hooks = await receiver();
    const subscription = await subscribe(hooks.url, ['message.status']);
    const ping = await request('POST', `/api/v1/subscriptions/${subscription.id}/test`);
    expect(ping.statusCode).toBe(202);
    const { webhookId } = ping.json<{ webhookId: string }>();
    await hooks.waitUntil((received) => received.some((event) => event.json.type === 'ping'));
    const pinged = hooks.received.find((event) => event.json.type === 'ping');
    expect(pinged?.json).toMatchObject({
      id: webhookId,
      type: 'ping',
      data: { subscriptionId: subscription.id },
    });
    expect(verifies(pinged as ReceivedEvent, subscription.secret)).toBe(true);

    const since = new Date(Date.now() - 1000).toISOString();
    const id = await sendToRead();
    const expected = await feedEvents(id);
    await hooks.waitUntil(() => of(hooks.accepted(), id).length >= expected.length);
    const replay = await request('POST', `/api/v1/subscriptions/${subscription.id}/replay`, {
      since,
    });
    expect(replay.statusCode).toBe(202);
    expect(replay.json<{ queued: number }>().queued).toBeGreaterThanOrEqual(expected.length);
    await hooks.waitUntil(() => of(hooks.accepted(), id).length >= 2 * expected.length);
    const ids = of(hooks.accepted(), id).map((event) => event.json.id);
    expect(ids.slice(expected.length, 2 * expected.length)).toEqual(expected.map((e) => e.id));

    const resend = await request('POST', `/api/v1/events/${expected[0].id}/resend`, {
      subscriptionId: subscription.id,
    });
    expect(resend.statusCode).toBe(202);
    await hooks.waitUntil(() => of(hooks.accepted(), id).length >= 2 * expected.length + 1);
    expect(of(hooks.accepted(), id).at(-1)?.json.id).toBe(expected[0].id);
    expect(
      (
        await request('POST', '/api/v1/events/evt_999999999999/resend', {
          subscriptionId: subscription.id,
        })
      ).statusCode,
    ).toBe(404);
  });
});

describe('event subscriptions when the worker dies mid-delivery', () => {
  let stack: Stack;
  let hooks: EventReceiver;
  const workers: AppProcess[] = [];

  beforeAll(async () => {
    // The API alone, so only the worker processes below deliver.
    stack = await Stack.start(
      { ROLE: 'api', WINDOW_CHECK: 'off', EVENTS_ALLOW_PRIVATE: 'on' },
      {},
      { listen: true },
    );
    hooks = await new EventReceiver().start();
  });

  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await stack.db.query('DELETE FROM event_subscriptions WHERE url = $1', [hooks.url]);
    await hooks.stop();
    await stack.close();
  });

  const startWorker = async (): Promise<AppProcess> => {
    const worker = spawnApp({
      NODE_ENV: 'test',
      ROLE: 'worker',
      PORT: '0',
      LOG_LEVEL: 'info',
      DATABASE_URL: testDatabaseUrl(),
      REDIS_URL,
      REDIS_PREFIX: `events${randomBytes(3).toString('hex')}`,
      TWILIO_ACCOUNT_SID: SIM_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: SIM_AUTH_TOKEN,
      TWILIO_API_BASE_URL: stack.sim.url,
      EVENTS_ALLOW_PRIVATE: 'on',
    });
    workers.push(worker);
    await waitForListening(worker);
    return worker;
  };

  it('should deliver again, after its lease, what a worker killed with -9 was sending', async () => {
    const token = await stack.adminToken();
    const created = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/subscriptions',
      headers: { authorization: `Bearer ${token}` },
      payload: { url: hooks.url, events: ['message.inbound'] },
    });
    expect(created.statusCode).toBe(201);
    const { id: subscriptionId, secret } = created.json<{ id: string; secret: string }>();
    // The receiver hangs on the first request: the worker holds the delivery in flight.
    hooks.respond = (_event, index) => (index === 0 ? null : 204);
    const first = await startWorker();
    const sim = await fetch(`${stack.sim.url}/__sim/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: newNumber(), body: 'are you there?' }),
    });
    expect(sim.status).toBe(200);
    await hooks.waitUntil((received) => received.length >= 1);
    first.child.kill('SIGKILL');
    await first.exited;

    await startWorker();
    const [held, again] = await hooks.waitUntil((received) => received.length >= 2, 60_000);
    expect(held.status).toBe(0);
    expect(again.status).toBe(204);
    expect(again.headers['webhook-id']).toBe(held.headers['webhook-id']);
    expect(verifies(again, secret)).toBe(true);
    // The dead worker's attempt left no outcome; the second one is attempt 2.
    const attempts = await stack.app.inject({
      method: 'GET',
      url: `/api/v1/subscriptions/${subscriptionId}/attempts`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(attempts.json<{ items: unknown[] }>().items).toEqual([
      expect.objectContaining({
        webhookId: held.headers['webhook-id'],
        status: 'succeeded',
        attempts: 2,
        history: [expect.objectContaining({ attempt: 2, result: 'succeeded', statusCode: 204 })],
      }),
    ]);
  }, 120_000);
});

describe('event subscriptions without private addresses', () => {
  let stack: Stack;

  // The API alone: its creation checks are what is tested (no dispatcher of its own).
  beforeAll(async () => {
    stack = await Stack.start({ WINDOW_CHECK: 'off', ROLE: 'api' });
  });

  afterAll(async () => {
    await stack.close();
  });

  it.each([
    'http://127.0.0.1:8080/hooks',
    'https://127.0.0.1/hooks',
    'https://[::1]/hooks',
    'https://169.254.169.254/latest',
    'https://10.0.0.1/hooks',
    'https://localhost/hooks',
    'https://93.184.216.34:8443/hooks',
  ])('should refuse %s with 400 on url', async (url) => {
    const res = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/subscriptions',
      headers: { authorization: `Bearer ${await stack.adminToken()}` },
      payload: { url, events: ['message.status'] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [expect.objectContaining({ field: 'url' })],
    });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
