import { ContactsRepository } from '../../src/modules/delivery/contacts/contacts.repository';
import { receiveInbound } from '../factories/inbound.factory';
import { createUser } from '../factories/users.factory';
import { ACCEPTED, Stack } from '../support/stack';

function uniqueNumber(): string {
  return `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
}

describe('Idempotency-Key', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start({ WINDOW_CHECK: 'off' });
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should answer the same key and body with the first response, creating one message', async () => {
    const key = `order-${Date.now()}`;
    const body = { to: '+14155550100', message: 'once', metadata: { b: 2, a: 1 } };
    const first = await stack.send(body, { idempotencyKey: key });
    const again = await stack.send(
      { message: 'once', metadata: { a: 1, b: 2 }, to: '+14155550100' },
      { idempotencyKey: key },
    );
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toEqual(first.json());
    const [{ n }] = await stack.db.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM whatsapp_messages WHERE idempotency_key = $1',
      [key],
    );
    expect(n).toBe(1);
    await stack.waitFor(first.json<{ id: string }>().id, ACCEPTED);
    expect(
      (await stack.truth()).creates.filter(
        (create) => create.mid === first.json<{ id: string }>().id,
      ),
    ).toEqual([expect.objectContaining({ count: 1, accepted: 1 })]);
  });

  it('should refuse the same key with another body: 422 IDEMPOTENCY_KEY_REUSED', async () => {
    const key = `reuse-${Date.now()}`;
    await stack.send({ to: '+14155550100', message: 'first' }, { idempotencyKey: key });
    const other = await stack.send(
      { to: '+14155550100', message: 'second' },
      { idempotencyKey: key },
    );
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('should answer 409 IDEMPOTENCY_KEY_IN_FLIGHT while the first request is still running', async () => {
    const key = `inflight-${Date.now()}`;
    const body = { to: '+14155550100', message: 'slow' };
    // What a first request holds while it runs: the claimed key, no response yet.
    const { createHash } = await import('node:crypto');
    const { canonicalJson } = await import('../../src/modules/messaging/canonical-json');
    await stack.db.query(
      'INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)',
      [stack.sender.id, key, createHash('sha256').update(canonicalJson(body)).digest('hex')],
    );
    const res = await stack.send(body, { idempotencyKey: key });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_FLIGHT' });
    expect(res.headers['retry-after']).toBe('1');
  });

  it('should give one answer to concurrent requests with the same key', async () => {
    const key = `race-${Date.now()}`;
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        stack.send({ to: '+14155550100', message: 'race' }, { idempotencyKey: key }),
      ),
    );
    const accepted = answers
      .filter((res) => res.statusCode === 202)
      .map((res) => res.json<{ id: string }>().id);
    expect(new Set(accepted).size).toBe(1);
    expect(answers.every((res) => res.statusCode === 202 || res.statusCode === 409)).toBe(true);
  });

  it("should scope keys per user: the same key never returns another user's message", async () => {
    const other = await createUser(stack.app, 'sender');
    stack.users.push(other.id);
    const key = `shared-${Date.now()}`;
    const mine = await stack.send({ to: '+14155550100', message: 'same' }, { idempotencyKey: key });
    const theirs = await stack.send(
      { to: '+14155550100', message: 'same' },
      { idempotencyKey: key, token: other.token },
    );
    expect(theirs.statusCode).toBe(202);
    expect(theirs.json<{ id: string }>().id).not.toBe(mine.json<{ id: string }>().id);
  });

  it('should free the key when the request is refused, so it can be used again', async () => {
    const key = `refused-${Date.now()}`;
    const windowed = await Stack.start({ WINDOW_CHECK: 'on' });
    try {
      const closed = await windowed.send(
        { to: uniqueNumber(), message: 'x' },
        { idempotencyKey: key },
      );
      expect(closed.statusCode).toBe(422);
      const template = await windowed.send(
        { to: uniqueNumber(), contentSid: `HX${'b'.repeat(32)}` },
        { idempotencyKey: key },
      );
      expect(template.statusCode).toBe(202);
    } finally {
      await windowed.close();
    }
  });

  it('should refuse a malformed key with 400', async () => {
    const res = await stack.send(
      { to: '+14155550100', message: 'x' },
      { idempotencyKey: 'has space' },
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('24-hour window and opt-out', () => {
  let stack: Stack;
  let contacts: ContactsRepository;

  beforeAll(async () => {
    stack = await Stack.start({ WINDOW_CHECK: 'on' });
    contacts = stack.app.get(ContactsRepository, { strict: false });
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should refuse a free-form send to someone who never wrote: 422 WINDOW_CLOSED pointing to templates', async () => {
    for (const payload of [{ message: 'hi' }, { mediaUrl: 'https://example.com/a.jpg' }]) {
      const res = await stack.send({ to: uniqueNumber(), ...payload });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({
        code: 'WINDOW_CLOSED',
        message: expect.stringMatching(/template.*contentSid/),
      });
    }
  });

  it('should let a template through whatever the window', async () => {
    const res = await stack.send({ to: uniqueNumber(), contentSid: `HX${'c'.repeat(32)}` });
    expect(res.statusCode).toBe(202);
  });

  it('should accept free-form within 24 h of the last inbound message, and refuse after', async () => {
    const open = uniqueNumber();
    const stale = uniqueNumber();
    await receiveInbound(stack.app, open, new Date(Date.now() - 23 * 3600_000));
    await receiveInbound(stack.app, stale, new Date(Date.now() - 25 * 3600_000));
    expect((await stack.send({ to: `whatsapp:${open}`, message: 'hi' })).statusCode).toBe(202);
    expect((await stack.send({ to: stale, message: 'hi' })).statusCode).toBe(422);
  });

  it('should refuse every send to an opted-out contact, templates too: 422 RECIPIENT_OPTED_OUT', async () => {
    const number = uniqueNumber();
    await receiveInbound(stack.app, number, new Date());
    await contacts.setOptedOut(number, true);
    for (const payload of [{ message: 'hi' }, { contentSid: `HX${'d'.repeat(32)}` }]) {
      const res = await stack.send({ to: number, ...payload });
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'RECIPIENT_OPTED_OUT' });
    }
    await contacts.setOptedOut(number, false);
    expect((await stack.send({ to: number, message: 'welcome back' })).statusCode).toBe(202);
  });

  it('should skip the window with WINDOW_CHECK=off, but never the opt-out', async () => {
    const off = await Stack.start({ WINDOW_CHECK: 'off' });
    try {
      expect((await off.send({ to: uniqueNumber(), message: 'hi' })).statusCode).toBe(202);
      const number = uniqueNumber();
      await contacts.setOptedOut(number, true);
      expect((await off.send({ to: number, message: 'hi' })).statusCode).toBe(422);
    } finally {
      await off.close();
    }
  });
});

describe('per-user send rate limit', () => {
  it('should answer 429 RATE_LIMITED with Retry-After and RateLimit headers past SEND_RATE_LIMIT per second', async () => {
    const stack = await Stack.start({ WINDOW_CHECK: 'off', SEND_RATE_LIMIT: '3' });
    try {
      const answers = [];
      for (let i = 0; i < 4; i += 1)
        answers.push(await stack.send({ to: '+14155550100', message: `n${i}` }));
      expect(answers.slice(0, 3).map((res) => res.statusCode)).toEqual([202, 202, 202]);
      expect(answers[0].headers['ratelimit-limit']).toBe('3');
      expect(answers[0].headers['ratelimit-remaining']).toBe('2');
      expect(Number(answers[0].headers['ratelimit-reset'])).toBeGreaterThan(0);
      const limited = answers[3];
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const other = await createUser(stack.app, 'sender');
      stack.users.push(other.id);
      expect(
        (await stack.send({ to: '+14155550100', message: 'other user' }, { token: other.token }))
          .statusCode,
      ).toBe(202);
    } finally {
      await stack.close();
    }
  });
});
