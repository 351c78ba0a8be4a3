import { randomUUID } from 'node:crypto';
import { createUser } from '../factories/users.factory';
import { ACCEPTED, FINISHED, Stack } from '../support/stack';

const TO = '+14155550100';

describe('POST /api/v1/whatsapp/send → outbox → queue → Twilio', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start({ WINDOW_CHECK: 'off' });
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should answer 202 with our id, then have Twilio accept the message once', async () => {
    const res = await stack.send({
      to: TO,
      message: 'Your order shipped',
      reference: 'order-42',
      metadata: { orderId: 42, tags: ['a'] },
    });
    expect(res.statusCode).toBe(202);
    const body = res.json<{ success: boolean; id: string; status: string; messageSid: null }>();
    expect(body).toEqual({
      success: true,
      id: expect.any(String),
      status: 'pending',
      messageSid: null,
    });
    const row = await stack.waitFor(body.id, ACCEPTED);
    expect(row).toMatchObject({
      status: 'queued',
      to: `whatsapp:${TO}`,
      from: 'whatsapp:+14155238886',
      body: 'Your order shipped',
      reference: 'order-42',
      metadata: { orderId: 42, tags: ['a'] },
      attempts: 1,
      created_by: stack.sender.id,
    });
    expect(row.accepted_at).not.toBeNull();
    const truth = await stack.truth();
    expect(truth.creates).toContainEqual({
      mid: body.id,
      to: `whatsapp:${TO}`,
      count: 1,
      accepted: 1,
    });
    expect(truth.messages.find((message) => message.mid === body.id)?.sid).toBe(row.twilio_sid);
    const history = await stack.db.query<{ status: string; source: string; applied: boolean }[]>(
      'SELECT status, source, applied FROM message_status_logs WHERE message_id = $1 ORDER BY id',
      [body.id],
    );
    expect(history).toEqual([
      { status: 'pending', source: 'api', applied: true },
      { status: 'dispatching', source: 'worker', applied: true },
      { status: 'queued', source: 'worker', applied: true },
    ]);
  });

  it('should normalise whatsapp: numbers and send media and templates', async () => {
    const media = await stack.send({
      to: `whatsapp:${TO}`,
      mediaUrl: ['https://example.com/a.jpg', 'https://example.com/b.png'],
    });
    const template = await stack.send({
      to: TO,
      contentSid: `HX${'a'.repeat(32)}`,
      contentVariables: { '1': 'Ana', '2': 'Tuesday' },
    });
    expect(media.statusCode).toBe(202);
    expect(template.statusCode).toBe(202);
    const mediaRow = await stack.waitFor(media.json<{ id: string }>().id, ACCEPTED);
    const templateRow = await stack.waitFor(template.json<{ id: string }>().id, ACCEPTED);
    expect(mediaRow).toMatchObject({
      to: `whatsapp:${TO}`,
      media_urls: ['https://example.com/a.jpg', 'https://example.com/b.png'],
      body: null,
    });
    expect(templateRow).toMatchObject({
      content_sid: `HX${'a'.repeat(32)}`,
      content_variables: { '1': 'Ana', '2': 'Tuesday' },
    });
  });

  it.each([
    [{ to: '4155550100', message: 'x' }, ['to']],
    [{ to: '+1415', message: 'x' }, ['to']],
    [{ to: TO }, ['message']],
    [{ to: TO, message: '' }, ['message']],
    [{ to: TO, message: 'x'.repeat(1601) }, ['message']],
    [{ to: TO, message: 'x', contentSid: `HX${'a'.repeat(32)}` }, ['message']],
    [{ to: TO, mediaUrl: 'http://example.com/a.jpg' }, ['mediaUrl']],
    [
      { to: TO, mediaUrl: Array.from({ length: 11 }, (_, i) => `https://e.com/${i}.jpg`) },
      ['mediaUrl'],
    ],
    [{ to: TO, contentSid: 'HX123' }, ['contentSid']],
    [{ to: TO, message: 'x', contentVariables: { '1': 'a' } }, ['contentVariables']],
    [
      { to: TO, contentSid: `HX${'a'.repeat(32)}`, contentVariables: { '1': 2 } },
      ['contentVariables'],
    ],
    [{ to: TO, message: 'x', reference: 'r'.repeat(129) }, ['reference']],
    [{ to: TO, message: 'x', metadata: { blob: 'x'.repeat(5000) } }, ['metadata']],
    [{ to: TO, message: 'x', metadata: ['not', 'an', 'object'] }, ['metadata']],
    [{ to: TO, message: 'x', priority: 'high' }, ['priority']],
    [{ message: 'x' }, ['to']],
  ])('should refuse %p with 400 naming %p', async (payload, fields) => {
    const res = await stack.send(payload);
    expect(res.statusCode).toBe(400);
    const body = res.json<{ code: string; details: { field: string }[] }>();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.details.map((detail) => detail.field)).toEqual(expect.arrayContaining(fields));
  });

  it('should answer NUL bytes in any field with 400, never 500', async () => {
    const send = await stack.send({ to: TO, message: 'a\u0000b' });
    expect(send.statusCode).toBe(400);
    const reference = await stack.send({ to: TO, message: 'x', reference: '\u0000' });
    expect(reference.statusCode).toBe(400);
    const list = await stack.app.inject({
      method: 'GET',
      url: '/api/v1/whatsapp/messages?reference=%00',
      headers: { authorization: `Bearer ${stack.sender.token}` },
    });
    expect(list.statusCode).toBe(400);
    const login = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'a\u0000@example.com', password: 'whatever-password' },
    });
    expect(login.statusCode).toBe(400);
  });

  it('should let only senders and admins send', async () => {
    const viewer = await createUser(stack.app, 'viewer');
    expect((await stack.send({ to: TO, message: 'x' }, { token: viewer.token })).statusCode).toBe(
      403,
    );
    expect(
      (await stack.send({ to: TO, message: 'x' }, { token: await stack.adminToken() })).statusCode,
    ).toBe(202);
    const anonymous = await stack.app.inject({
      method: 'POST',
      url: '/api/v1/whatsapp/send',
      payload: { to: TO, message: 'x' },
    });
    expect(anonymous.statusCode).toBe(401);
  });

  it.each([
    ['+15005550001', 21211],
    ['+15005550002', 21612],
    ['+15005550003', 21408],
    ['+15005550004', 21610],
    ['+15005550009', 21614],
    ['+15005550016', 63016],
  ])('should fail %s with %i after exactly one attempt', async (number, code) => {
    const res = await stack.send({ to: number, message: 'x' });
    const id = res.json<{ id: string }>().id;
    const row = await stack.waitFor(id, FINISHED);
    expect(row).toMatchObject({
      status: 'failed',
      error_code: code,
      attempts: 1,
      last_error_retryable: false,
      twilio_sid: null,
    });
    expect(row.failed_at).not.toBeNull();
    expect((await stack.truth()).creates).toContainEqual({
      mid: id,
      to: `whatsapp:${number}`,
      count: 1,
      accepted: 0,
    });
  });

  it('should refuse an admin retry of a permanent failure with 409 NOT_RETRYABLE, and 404 for unknown ids', async () => {
    const res = await stack.send({ to: '+15005550001', message: 'x' });
    const id = res.json<{ id: string }>().id;
    await stack.waitFor(id, FINISHED);
    const admin = await stack.adminToken();
    const retry = (target: string, token = admin) =>
      stack.app.inject({
        method: 'POST',
        url: `/api/v1/whatsapp/messages/${target}/retry`,
        headers: { authorization: `Bearer ${token}` },
      });
    expect((await retry(id)).json()).toMatchObject({ statusCode: 409, code: 'NOT_RETRYABLE' });
    expect((await retry(randomUUID())).statusCode).toBe(404);
    expect((await retry('not-an-id')).statusCode).toBe(404);
    expect((await retry(id, stack.sender.token)).statusCode).toBe(403);
  });
});

describe('riding out Twilio trouble', () => {
  it('should ride out a 429 burst and deliver every message once', async () => {
    const stack = await Stack.start(
      { WINDOW_CHECK: 'off' },
      { burst429: { every: 3, retryAfterS: 1 } },
    );
    try {
      const ids: string[] = [];
      for (let i = 0; i < 12; i += 1)
        ids.push((await stack.send({ to: TO, message: `burst ${i}` })).json<{ id: string }>().id);
      for (const id of ids) await stack.waitFor(id, ACCEPTED, 30_000);
      const truth = await stack.truth();
      const creates = truth.creates.filter((create) => ids.includes(create.mid));
      expect(creates.map((create) => create.mid).sort()).toEqual([...ids].sort());
      expect(creates.every((create) => create.accepted === 1)).toBe(true);
      // Every third create call was a 429: each one was attempted again.
      const calls = creates.reduce((sum, create) => sum + create.count, 0);
      expect(calls).toBeGreaterThan(ids.length);
      const retried = await stack.db.query<{ n: number }[]>(
        'SELECT count(*)::int AS n FROM whatsapp_messages WHERE id = ANY($1) AND attempts > 1',
        [ids],
      );
      expect(retried[0].n).toBeGreaterThan(0);
    } finally {
      await stack.close();
    }
  });

  it('should never send twice when Twilio creates the message but answers 500', async () => {
    const stack = await Stack.start({ WINDOW_CHECK: 'off' }, { fiveXxAfterAcceptRate: 1 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 10; i += 1)
        ids.push((await stack.send({ to: TO, message: `trap ${i}` })).json<{ id: string }>().id);
      const truth = () => stack.truth();
      for (const id of ids) {
        const row = await stack.waitFor(id, ACCEPTED, 20_000);
        expect(row.attempts).toBe(2); // the 500, then the look-up that adopted Twilio's message
        expect((await truth()).messages.find((message) => message.mid === id)?.sid).toBe(
          row.twilio_sid,
        );
      }
      const { creates } = await truth();
      expect(creates.filter((create) => ids.includes(create.mid))).toHaveLength(10);
      // Created once, and never created again: the retry looked it up instead.
      expect(creates.every((create) => create.count === 1 && create.accepted === 1)).toBe(true);
    } finally {
      await stack.close();
    }
  });

  it('should fail a message as retryable once its attempts are spent, and send it on an admin retry', async () => {
    const stack = await Stack.start(
      { WINDOW_CHECK: 'off', SEND_MAX_ATTEMPTS: '2' },
      { burst429: { every: 1, retryAfterS: 0 } },
    );
    try {
      const id = (await stack.send({ to: TO, message: 'stubborn' })).json<{ id: string }>().id;
      const failed = await stack.waitFor(id, FINISHED, 20_000);
      expect(failed).toMatchObject({
        status: 'failed',
        error_code: 20429,
        attempts: 2,
        last_error_retryable: true,
      });
      await stack.sim.configure({ burst429: { every: 0 } });
      const res = await stack.app.inject({
        method: 'POST',
        url: `/api/v1/whatsapp/messages/${id}/retry`,
        headers: { authorization: `Bearer ${await stack.adminToken()}` },
      });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({
        id,
        status: 'pending',
        errorCode: null,
        attempts: 2,
        history: expect.any(Array),
      });
      const row = await stack.waitFor(id, ACCEPTED, 20_000);
      expect(row).toMatchObject({ status: 'queued', attempts: 3 });
      // Every attempt shows once in the history, the worker's and the admin's moves included.
      const history = await stack.db.query<{ entry: string }[]>(
        `SELECT status || '/' || source || '/' || attempt AS entry FROM message_status_logs
          WHERE message_id = $1 AND source <> 'callback' ORDER BY id`,
        [id],
      );
      expect(history.map((row) => row.entry)).toEqual([
        'pending/api/0',
        'dispatching/worker/1',
        'pending/worker/1',
        'dispatching/worker/2',
        'failed/worker/2',
        'pending/api/2',
        'dispatching/worker/3',
        'queued/worker/3',
      ]);
      // Two 429s, then the admin retry's create: three calls, one message.
      expect((await stack.truth()).creates).toContainEqual({
        mid: id,
        to: `whatsapp:${TO}`,
        count: 3,
        accepted: 1,
      });
    } finally {
      await stack.close();
    }
  });
});
