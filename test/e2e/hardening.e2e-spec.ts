import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { LightMyRequestResponse as Response } from 'fastify';
import { TwilioSignatureValidator } from '../../src/modules/twilio/twilio-signature.validator';
import { encodeForm } from '../../src/simulator/form';
import type { FormParams } from '../../src/simulator/twilio-signature';
import { createUser, TEST_PASSWORD, uniqueEmail } from '../factories/users.factory';
import { Stack } from '../support/stack';
import { startTestApp, type TestApp } from '../support/test-app';

// One regression test per hole found by trying the service as an attacker would: each of
// these answered 500, froze the process, slipped past a limit or cost seconds of CPU before.

const STATUS = '/api/v1/whatsapp/status';
const INBOUND = '/api/v1/whatsapp/webhook';
const newSid = () => `SM${randomBytes(16).toString('hex')}`;

function statusParams(sid: string, status: string): FormParams {
  return {
    AccountSid: `AC${'1'.repeat(32)}`,
    MessageSid: sid,
    MessageStatus: status,
    To: 'whatsapp:+14155550100',
    From: 'whatsapp:+14155238886',
  };
}

/** The HTTP contract's error shape (docs/api.md §2), with a given status and code. */
function expectError(res: Response, statusCode: number, code: string): void {
  expect({ statusCode: res.statusCode, code: res.json<{ code: string }>().code }).toEqual({
    statusCode,
    code,
  });
  expect(res.json()).toMatchObject({
    statusCode,
    error: expect.any(String),
    message: expect.any(String),
    requestId: expect.any(String),
  });
}

let slowestMs = 0;
async function timed<T>(work: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  try {
    return await work();
  } finally {
    slowestMs = Math.max(slowestMs, Number(process.hrtime.bigint() - started) / 1e6);
  }
}

describe('hardening: bounded input, ordered guards, atomic throttles', () => {
  let stack: Stack;
  let token: string;

  beforeAll(async () => {
    // ROLE=api: no sweeper or reconciler queries in the background, so "no database trip" is
    // about the request alone.
    stack = await Stack.start({
      ROLE: 'api',
      WINDOW_CHECK: 'off',
      WEBHOOK_UNSIGNED_LIMIT: '3',
      LOGIN_LIMIT_PER_IP: '1000',
      LOGIN_LIMIT_PER_EMAIL: '5',
    });
    token = stack.sender.token;
  });

  afterAll(async () => {
    process.stdout.write(`hardening: slowest refused request ${slowestMs.toFixed(1)} ms\n`);
    await stack.close();
  });

  const post = (url: string, payload: string | Readable, headers: Record<string, string> = {}) =>
    timed(() =>
      stack.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', ...headers },
        payload,
      }),
    );

  describe('bodies are bounded before they are expensive', () => {
    it('should refuse a 979 KB login of 90,000 keys with 413 and a short answer', async () => {
      const wide = JSON.stringify(
        Object.fromEntries(Array.from({ length: 90_000 }, (_, i) => [`k${i}`, 1])),
      );
      const res = await post('/api/v1/auth/login', wide);
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
      expect(res.body.length).toBeLessThan(1_000);
    });

    it('should hold auth routes to 4 KB', async () => {
      const res = await post(
        '/api/v1/auth/login',
        JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(5_000) }),
      );
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('should refuse JSON with more than 1,000 keys with 400 before validation walks them', async () => {
      const wide = JSON.stringify({
        to: '+14155550100',
        message: 'x',
        metadata: Object.fromEntries(Array.from({ length: 1_200 }, (_, i) => [`k${i}`, 1])),
      });
      expect(wide.length).toBeLessThan(64 * 1024);
      const res = await post('/api/v1/whatsapp/send', wide, { authorization: `Bearer ${token}` });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.json<{ message: string }>().message).toMatch(/1000 keys/);
    });

    it('should name at most 20 fields in details and message for 900 unknown keys', async () => {
      const body = JSON.stringify({
        to: '+14155550100',
        message: 'x',
        ...Object.fromEntries(Array.from({ length: 900 }, (_, i) => [`unknown${i}`, 1])),
      });
      const res = await post('/api/v1/whatsapp/send', body, { authorization: `Bearer ${token}` });
      expectError(res, 400, 'VALIDATION_FAILED');
      const answer = res.json<{ message: string; details: unknown[] }>();
      expect(answer.details).toHaveLength(20);
      expect(answer.message).toMatch(/and 880 more\.$/);
      expect(res.body.length).toBeLessThan(5_000);
    });

    it.each([
      ['login email 20,000 arrays deep', '/api/v1/auth/login', 'email', 20_000, 413],
      ['login email 100 arrays deep', '/api/v1/auth/login', 'email', 100, 400],
      ['send metadata 10,000 objects deep', '/api/v1/whatsapp/send', 'metadata', 10_000, 400],
      ['send contentVariables 5,000 deep', '/api/v1/whatsapp/send', 'contentVariables', 5_000, 400],
      ['send mediaUrl 10,000 arrays deep', '/api/v1/whatsapp/send', 'mediaUrl', 10_000, 400],
    ])('should answer %s with a 4xx, never 500', async (_name, url, field, depth, status) => {
      const open = field === 'metadata' ? '{"a":'.repeat(depth) : '['.repeat(depth);
      const close = field === 'metadata' ? '}'.repeat(depth) : ']'.repeat(depth);
      const body = `{"to":"+14155550100","${field}":${open}1${close}}`;
      const res = await post(url, body, { authorization: `Bearer ${token}` });
      expectError(res, status, status === 413 ? 'PAYLOAD_TOO_LARGE' : 'VALIDATION_FAILED');
    });

    it('should cap query strings at 100 parameters', async () => {
      const query = Array.from({ length: 101 }, (_, i) => `p${i}=1`).join('&');
      const res = await timed(() =>
        stack.app.inject({
          method: 'GET',
          url: `/api/v1/whatsapp/messages?${query}`,
          headers: { authorization: `Bearer ${token}` },
        }),
      );
      expectError(res, 400, 'VALIDATION_FAILED');
    });
  });

  describe('webhooks: size, fields and content type on the route Fastify matched', () => {
    const bigForm = encodeForm({ MessageSid: newSid(), Body: 'x'.repeat(70 * 1024) });

    it('should hold a chunked webhook body (no Content-Length) to 64 KB', async () => {
      const res = await post(STATUS, Readable.from([Buffer.from(bigForm)]), {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('should hold an encoded webhook path (/api/v1/whatsapp/%77ebhook) to 64 KB', async () => {
      const res = await post('/api/v1/whatsapp/%77ebhook', bigForm, {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it.each([
      ['application/json', '{"MessageSid":"SM1","MessageStatus":"delivered"}'],
      ['text/plain', 'MessageSid=SM1'],
      ['application/xml', '<a/>'],
    ])('should refuse %s on a webhook with 415', async (type, payload) => {
      for (const url of [STATUS, INBOUND, '/api/v1/whatsapp/%73tatus']) {
        const res = await post(url, payload, { 'content-type': type });
        expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      }
    });

    it('should refuse a webhook form of more than 100 fields with 400', async () => {
      const form = Array.from({ length: 101 }, (_, i) => `F${i}=1`).join('&');
      const res = await post(INBOUND, form, {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expectError(res, 400, 'VALIDATION_FAILED');
    });
  });

  describe('the unsigned-flood throttle before the expensive signature check', () => {
    it('should spend one HMAC on a flooding client, 429 it, and still take its signed callbacks', async () => {
      const validator = stack.app.get(TwilioSignatureValidator);
      const full = jest.spyOn(validator, 'check');
      const once = jest.spyOn(validator, 'checkOnce');
      const ip = '198.51.100.77';
      const unsigned = () =>
        stack.app.inject({
          method: 'POST',
          url: STATUS,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': 'forged',
          },
          payload: encodeForm(statusParams(newSid(), 'delivered')),
          remoteAddress: ip,
        });
      for (let i = 0; i < 3; i += 1) expect((await unsigned()).statusCode).toBe(403);
      expect((await unsigned()).statusCode).toBe(429);
      full.mockClear();
      once.mockClear();
      const flood = await timed(unsigned);
      expectError(flood, 429, 'RATE_LIMITED');
      expect(full).not.toHaveBeenCalled();
      expect(once).toHaveBeenCalledTimes(1);
      const signed = await stack.signedPost(STATUS, statusParams(newSid(), 'delivered'), { ip });
      expect(signed.statusCode).toBe(200);
      full.mockRestore();
      once.mockRestore();
    });

    it('should count an IPv6 client per /64, not per address', async () => {
      const unsigned = (ip: string) =>
        stack.app.inject({
          method: 'POST',
          url: INBOUND,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'MessageSid=SM1',
          remoteAddress: ip,
        });
      for (let i = 1; i <= 3; i += 1) {
        expect((await unsigned(`2001:db8:77:1::${i}`)).statusCode).toBe(403);
      }
      expect((await unsigned('2001:db8:77:1:ffff::9')).statusCode).toBe(429);
      expect((await unsigned('2001:db8:77:2::1')).statusCode).toBe(403);
    });
  });

  describe('the replay guard', () => {
    async function seedMessage(sid: string): Promise<string> {
      const [row] = await stack.db.query<{ id: string }[]>(
        `INSERT INTO whatsapp_messages (direction, twilio_sid, "to", body, status, attempts, max_attempts, created_by)
         VALUES ('outbound', $1, 'whatsapp:+14155550100', 'x', 'accepted', 1, 8, $2) RETURNING id`,
        [sid, stack.sender.id],
      );
      return row.id;
    }

    it('should answer a committed token again with 200 without touching PostgreSQL', async () => {
      const sid = newSid();
      const id = await seedMessage(sid);
      const idempotencyToken = randomUUID();
      const first = await stack.signedPost(`${STATUS}?mid=${id}`, statusParams(sid, 'sent'), {
        token: idempotencyToken,
      });
      expect(first.statusCode).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the mark is written after the answer
      const transaction = jest.spyOn(stack.db, 'transaction');
      const query = jest.spyOn(stack.db, 'query');
      const replay = await stack.signedPost(`${STATUS}?mid=${id}`, statusParams(sid, 'sent'), {
        token: idempotencyToken,
      });
      expect(replay.statusCode).toBe(200);
      expect(replay.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
      expect(transaction).not.toHaveBeenCalled();
      expect(query).not.toHaveBeenCalled();
      transaction.mockRestore();
      query.mockRestore();
      const metrics = await stack.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(
        /twilio_webhook_requests_total\{endpoint="status",result="duplicate"\} [1-9]/,
      );
    });

    it('should answer an identical signed event without a token from Redis too', async () => {
      const sid = newSid();
      const id = await seedMessage(sid);
      expect(
        (await stack.signedPost(`${STATUS}?mid=${id}`, statusParams(sid, 'sent'))).statusCode,
      ).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const transaction = jest.spyOn(stack.db, 'transaction');
      const replay = await stack.signedPost(`${STATUS}?mid=${id}`, statusParams(sid, 'sent'));
      expect(replay.statusCode).toBe(200);
      expect(transaction).not.toHaveBeenCalled();
      transaction.mockRestore();
      // A different event for the same message still goes to the database.
      const next = await stack.signedPost(`${STATUS}?mid=${id}`, statusParams(sid, 'delivered'));
      expect(next.statusCode).toBe(200);
      expect((await stack.row(id)).status).toBe('delivered');
    });

    it('should not mark a token whose request was refused, so its retry is applied', async () => {
      const sid = newSid();
      const id = await seedMessage(sid);
      const idempotencyToken = randomUUID();
      const { MessageStatus: _dropped, ...incomplete } = statusParams(sid, 'delivered');
      const refused = await stack.signedPost(`${STATUS}?mid=${id}`, incomplete, {
        token: idempotencyToken,
      });
      expect(refused.statusCode).toBe(400);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const retried = await stack.signedPost(
        `${STATUS}?mid=${id}`,
        statusParams(sid, 'delivered'),
        {
          token: idempotencyToken,
        },
      );
      expect(retried.statusCode).toBe(200);
      expect((await stack.row(id)).status).toBe('delivered');
    });
  });

  describe('login throttling is atomic', () => {
    const login = (email: string, password: string, ip = '192.0.2.10') =>
      stack.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email, password },
        remoteAddress: ip,
      });

    it('should let at most 5 of 50 concurrent wrong-password logins for one email reach the password check', async () => {
      const user = await createUser(stack.app, 'viewer');
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => login(user.email, 'wrong-password!')),
      );
      const codes = answers.map((res) => res.statusCode);
      expect(codes.filter((code) => code === 401).length).toBeLessThanOrEqual(5);
      expect(codes.filter((code) => code === 429).length).toBeGreaterThanOrEqual(45);
      expect(codes.every((code) => code === 401 || code === 429)).toBe(true);
    });

    it('should refund a successful login, so only failures count', async () => {
      const user = await createUser(stack.app, 'viewer');
      for (let i = 0; i < 4; i += 1) {
        expect((await login(user.email, 'wrong-password!')).statusCode).toBe(401);
      }
      for (let i = 0; i < 3; i += 1) {
        expect((await login(user.email, TEST_PASSWORD)).statusCode).toBe(200);
      }
      expect((await login(user.email, 'wrong-password!')).statusCode).toBe(401);
      expect((await login(user.email, TEST_PASSWORD)).statusCode).toBe(429);
    });
  });
});

describe('hardening: client addresses behind a proxy', () => {
  let test: TestApp;

  beforeAll(async () => {
    test = await startTestApp({
      TRUST_PROXY: '1',
      LOGIN_LIMIT_PER_IP: '3',
      LOGIN_LIMIT_PER_EMAIL: '1000',
    });
  });

  afterAll(async () => {
    await test.close();
  });

  const login = (headers: Record<string, string>, remoteAddress: string) =>
    test.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: uniqueEmail('spray'), password: 'wrong-password!' },
      headers,
      remoteAddress,
    });

  it('should count the address the trusted hop saw, whatever a client writes to the left of it', async () => {
    for (let i = 0; i < 3; i += 1) {
      const res = await login({ 'x-forwarded-for': `6.6.6.${i}, 203.0.113.50` }, '10.0.0.2');
      expect(res.statusCode).toBe(401);
    }
    const blocked = await login({ 'x-forwarded-for': '6.6.6.99, 203.0.113.50' }, '10.0.0.2');
    expectError(blocked, 429, 'RATE_LIMITED');
  });

  it('should count IPv6 logins per /64', async () => {
    for (let i = 1; i <= 3; i += 1) {
      expect(
        (await login({ 'x-forwarded-for': `2001:db8:9:9::${i}` }, '10.0.0.2')).statusCode,
      ).toBe(401);
    }
    const blocked = await login({ 'x-forwarded-for': '2001:db8:9:9:abcd::1' }, '10.0.0.2');
    expect(blocked.statusCode).toBe(429);
  });
});

describe('hardening: report mode ends at SIGNATURE_REPORT_UNTIL, in running processes too', () => {
  const forged = (test: TestApp) =>
    test.app.inject({
      method: 'POST',
      url: STATUS,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'x' },
      payload: encodeForm(statusParams(newSid(), 'delivered')),
    });

  it('should let a forged callback through while report mode lasts, and refuse it once it ended', async () => {
    const until = new Date(Date.now() + 3_600_000);
    const test = await startTestApp({
      SIGNATURE_MODE: 'report',
      SIGNATURE_REPORT_UNTIL: until.toISOString(),
    });
    try {
      // Report mode: counted and logged, let through (an orphan callback, committed).
      expect((await forged(test)).statusCode).toBe(200);
      // The same process, past the date: enforced, without a restart.
      const later = jest.spyOn(Date, 'now').mockReturnValue(until.getTime() + 1_000);
      try {
        expectError(await forged(test), 403, 'BAD_SIGNATURE');
      } finally {
        later.mockRestore();
      }
    } finally {
      await test.close();
    }
  });
});
