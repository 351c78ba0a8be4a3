import { randomBytes, randomUUID } from 'node:crypto';
import type { FormParams } from '../../src/simulator/twilio-signature';
import { ACCEPTED, Stack } from '../support/stack';
import { TcpProxy } from '../support/tcp-proxy';
import { testDatabaseUrl } from '../support/test-env';

const STATUS = '/api/v1/whatsapp/status';
const INBOUND = '/api/v1/whatsapp/webhook';
const TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

const newSid = (prefix = 'SM') => `${prefix}${randomBytes(16).toString('hex')}`;
const newNumber = () => `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

function statusParams(sid: string, status: string, extra: FormParams = {}): FormParams {
  return {
    AccountSid: `AC${'1'.repeat(32)}`,
    ApiVersion: '2010-04-01',
    ChannelPrefix: 'whatsapp',
    ChannelToAddress: '+14155550100',
    From: 'whatsapp:+14155238886',
    MessageSid: sid,
    MessageStatus: status,
    SmsSid: sid,
    SmsStatus: status,
    To: 'whatsapp:+14155550100',
    ...extra,
  };
}

function inboundParams(from: string, body: string, sid = newSid()): FormParams {
  return {
    AccountSid: `AC${'1'.repeat(32)}`,
    ApiVersion: '2010-04-01',
    Body: body,
    From: `whatsapp:${from}`,
    MessageSid: sid,
    NumMedia: '0',
    ProfileName: 'Ana',
    SmsMessageSid: sid,
    SmsSid: sid,
    SmsStatus: 'received',
    To: 'whatsapp:+14155238886',
    WaId: from.slice(1),
  };
}

/** A message as the worker leaves it: accepted by Twilio under `sid` (or still dispatching). */
async function seedMessage(stack: Stack, sid: string | null, status = 'accepted'): Promise<string> {
  const [row] = await stack.db.query<{ id: string }[]>(
    `INSERT INTO whatsapp_messages (direction, twilio_sid, "to", body, status, attempts, max_attempts, created_by)
     VALUES ('outbound', $1, 'whatsapp:+14155550100', 'x', $2, 1, 8, $3) RETURNING id`,
    [sid, status, stack.sender.id],
  );
  return row.id;
}

async function history(stack: Stack, id: string) {
  return stack.db.query<{ status: string; source: string; applied: boolean }[]>(
    'SELECT status, source, applied FROM message_status_logs WHERE message_id = $1 ORDER BY id',
    [id],
  );
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [
      item,
      ...rest,
    ]),
  );
}

describe('Twilio webhooks', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start(
      { WINDOW_CHECK: 'off', WEBHOOK_UNSIGNED_LIMIT: '200' },
      {},
      { listen: true },
    );
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should close the loop: send, then sent, delivered and read through signed callbacks behind a proxy', async () => {
    const id = (await stack.send({ to: '+14155550100', message: 'loop' })).json<{ id: string }>()
      .id;
    const row = await stack.waitFor(id, (r) => r.status === 'read', 15_000);
    expect(row.sent_at).not.toBeNull();
    expect(row.delivered_at).not.toBeNull();
    expect(row.read_at).not.toBeNull();
    const events = (await history(stack, id)).map((entry) => `${entry.status}/${entry.source}`);
    expect(events[0]).toBe('pending/api');
    // The worker's `queued` and the first callback race (a callback may beat the SID write);
    // the callbacks themselves arrive in order.
    expect([...events].sort()).toEqual([
      'delivered/callback',
      'dispatching/worker',
      'pending/api',
      'queued/worker',
      'read/callback',
      'sent/callback',
    ]);
    expect(events.filter((event) => event.endsWith('/callback'))).toEqual([
      'sent/callback',
      'delivered/callback',
      'read/callback',
    ]);
    const metrics = await stack.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(
      /twilio_webhook_requests_total\{endpoint="status",result="ok"\} [1-9]/,
    );
  });

  it.each(
    permutations(['queued', 'sent', 'delivered', 'read']).map((order) => [
      order.join(' → '),
      order,
    ]),
  )('should end at read with every stage set for the order %s', async (_name, order) => {
    const sid = newSid();
    const id = await seedMessage(stack, sid, 'accepted');
    for (const status of order) {
      const res = await stack.signedPost(`${STATUS}?mid=${id}`, statusParams(sid, status));
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(TWIML);
      expect(res.headers['content-type']).toMatch(/^text\/xml/);
    }
    const row = await stack.row(id);
    expect(row.status).toBe('read');
    for (const stage of ['accepted_at', 'sent_at', 'delivered_at', 'read_at'])
      expect(row[stage]).not.toBeNull();
    expect(
      (await history(stack, id)).filter((entry) => entry.applied && entry.status === 'read'),
    ).toHaveLength(1);
  });

  it('should log failed after delivered without applying it', async () => {
    const sid = newSid();
    const id = await seedMessage(stack, sid);
    await stack.signedPost(`${STATUS}?mid=${id}`, statusParams(sid, 'delivered'));
    await stack.signedPost(
      `${STATUS}?mid=${id}`,
      statusParams(sid, 'failed', { ErrorCode: '30008', ErrorMessage: 'Unknown error' }),
    );
    expect(await stack.row(id)).toMatchObject({ status: 'delivered', error_code: null });
    expect((await history(stack, id)).at(-1)).toEqual({
      status: 'failed',
      source: 'callback',
      applied: false,
    });
  });

  it('should add no history for duplicated and replayed callbacks, with or without the token', async () => {
    const sid = newSid();
    const id = await seedMessage(stack, sid);
    const params = statusParams(sid, 'sent');
    for (const token of ['tok-1', 'tok-1', 'tok-2', undefined]) {
      const res = await stack.signedPost(
        `${STATUS}?mid=${id}`,
        params,
        token === undefined ? {} : { token },
      );
      expect(res.statusCode).toBe(200);
    }
    expect((await history(stack, id)).filter((entry) => entry.source === 'callback')).toHaveLength(
      1,
    );
    const metrics = await stack.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(
      /twilio_webhook_requests_total\{endpoint="status",result="duplicate"\} [3-9]/,
    );
  });

  it('should apply exactly one of 50 concurrent identical callbacks', async () => {
    const sid = newSid();
    const id = await seedMessage(stack, sid);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        stack.signedPost(`${STATUS}?mid=${id}`, statusParams(sid, 'delivered')),
      ),
    );
    expect(answers.every((res) => res.statusCode === 200)).toBe(true);
    expect((await history(stack, id)).filter((entry) => entry.status === 'delivered')).toEqual([
      { status: 'delivered', source: 'callback', applied: true },
    ]);
  });

  it("should apply a callback that beats the worker's SID write (found by mid), and keep the SID", async () => {
    const id = await seedMessage(stack, null, 'dispatching');
    const sid = newSid();
    await stack.signedPost(`${STATUS}?mid=${id}`, statusParams(sid, 'sent'));
    expect(await stack.row(id)).toMatchObject({ status: 'sent', twilio_sid: sid });
  });

  it('should find the message by MessageSid when the URL has no mid', async () => {
    const sid = newSid();
    const id = await seedMessage(stack, sid);
    await stack.signedPost(STATUS, statusParams(sid, 'delivered'));
    expect((await stack.row(id)).status).toBe('delivered');
  });

  it('should keep a callback for an unknown message as an orphan and answer 200', async () => {
    const sid = newSid();
    const res = await stack.signedPost(`${STATUS}?mid=${randomUUID()}`, statusParams(sid, 'sent'));
    expect(res.statusCode).toBe(200);
    const rows = await stack.db.query<{ message_id: string | null }[]>(
      'SELECT message_id FROM message_status_logs WHERE twilio_sid = $1',
      [sid],
    );
    expect(rows).toEqual([{ message_id: null }]);
  });

  it.each([
    ['a forged signature', { 'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl' }],
    ['no signature', { 'x-twilio-signature': '' }],
  ])('should refuse %s with 403 BAD_SIGNATURE and change nothing', async (_case, headers) => {
    const sid = newSid();
    const id = await seedMessage(stack, sid);
    const res = await stack.signedPost(`${STATUS}?mid=${id}`, statusParams(sid, 'read'), {
      headers,
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'BAD_SIGNATURE' });
    expect((await stack.row(id)).status).toBe('accepted');
  });

  it('should refuse a signed callback whose body was tampered with', async () => {
    const sid = newSid();
    const id = await seedMessage(stack, sid);
    const { twilioSignature } = await import('../../src/simulator/twilio-signature');
    const signature = twilioSignature(
      'sim-test-auth-token-0123',
      `https://api.example.com${STATUS}?mid=${id}`,
      statusParams(sid, 'sent'),
    );
    const tampered = await stack.app.inject({
      method: 'POST',
      url: `${STATUS}?mid=${id}`,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': signature,
      },
      payload: new URLSearchParams(statusParams(sid, 'read') as Record<string, string>).toString(),
    });
    expect(tampered.statusCode).toBe(403);
  });

  it('should validate query strings, + and %20 in bodies, and repeated fields', async () => {
    const from = newNumber();
    const params: FormParams = {
      ...inboundParams(from, 'a+b c%20d 50% off & more'),
      NumMedia: '2',
      MediaUrl0: 'https://api.twilio.com/m0',
      MediaUrl1: 'https://api.twilio.com/m1',
      Extra: ['one', 'two'],
    };
    const res = await stack.signedPost(`${INBOUND}?tenant=a%20b&x=1+2`, params);
    expect(res.statusCode).toBe(200);
    const [row] = await stack.db.query<{ body: string; media_urls: string[] }[]>(
      'SELECT body, media_urls FROM whatsapp_messages WHERE twilio_sid = $1',
      [params.MessageSid],
    );
    expect(row).toEqual({
      body: 'a+b c%20d 50% off & more',
      media_urls: ['https://api.twilio.com/m0', 'https://api.twilio.com/m1'],
    });
  });

  it('should never let JSON, an empty or a malformed body become a 500', async () => {
    for (const [type, payload] of [
      ['application/json', '{"MessageSid":"SM1"}'],
      ['application/x-www-form-urlencoded', ''],
      ['application/x-www-form-urlencoded', '%%%&&&==='],
      ['text/plain', 'hello'],
    ]) {
      const res = await stack.app.inject({
        method: 'POST',
        url: STATUS,
        headers: { 'content-type': type },
        payload,
      });
      expect([400, 403, 415]).toContain(res.statusCode);
    }
  });

  it('should refuse a webhook body over 64 KB with 413', async () => {
    const res = await stack.signedPost(INBOUND, inboundParams(newNumber(), 'x'.repeat(70 * 1024)));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('should throttle an unsigned flood per IP while every signed callback from that IP gets 200', async () => {
    const ip = '203.0.113.77';
    const unsigned = [];
    for (let i = 0; i < 201; i += 1) {
      unsigned.push(
        (
          await stack.signedPost(STATUS, statusParams(newSid(), 'sent'), {
            ip,
            headers: { 'x-twilio-signature': 'x' },
          })
        ).statusCode,
      );
    }
    expect(unsigned.slice(0, 200).every((code) => code === 403)).toBe(true);
    expect(unsigned[200]).toBe(429);
    const sid = newSid();
    const id = await seedMessage(stack, sid);
    const signed = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        stack.signedPost(
          `${STATUS}?mid=${id}`,
          statusParams(sid, i % 2 === 0 ? 'sent' : 'delivered'),
          { ip },
        ),
      ),
    );
    expect(signed.every((res) => res.statusCode === 200)).toBe(true);
    const metrics = await stack.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(
      /twilio_webhook_requests_total\{endpoint="status",result="throttled"\} [1-9]/,
    );
    expect(metrics.body).toMatch(
      /twilio_webhook_requests_total\{endpoint="status",result="bad_signature"\} [1-9]/,
    );
  });

  it('should store an inbound message once, open the window, and honour STOP and START', async () => {
    const windowed = await Stack.start({ WINDOW_CHECK: 'on' }, {}, { listen: true });
    try {
      const from = newNumber();
      expect((await windowed.send({ to: from, message: 'hi' })).json()).toMatchObject({
        code: 'WINDOW_CLOSED',
      });
      const sim = await fetch(`${windowed.sim.url}/__sim/inbound`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from, body: 'Hello!', profileName: 'Ana' }),
      });
      const { messageSid, webhookStatus } = (await sim.json()) as {
        messageSid: string;
        webhookStatus: number;
      };
      expect(webhookStatus).toBe(200);
      // Twilio delivering the same inbound message again: stored once.
      const again = await windowed.signedPost(INBOUND, inboundParams(from, 'Hello!', messageSid));
      expect(again.statusCode).toBe(200);
      const rows = await windowed.db.query<{ direction: string; status: string }[]>(
        'SELECT direction, status FROM whatsapp_messages WHERE twilio_sid = $1',
        [messageSid],
      );
      expect(rows).toEqual([{ direction: 'inbound', status: 'received' }]);
      const [contact] = await windowed.db.query<
        { profile_name: string; last_inbound_at: Date | null }[]
      >('SELECT profile_name, last_inbound_at FROM contacts WHERE phone = $1', [from]);
      expect(contact.profile_name).toBe('Ana');
      const sent = await windowed.send({ to: from, message: 'thanks for writing' });
      expect(sent.statusCode).toBe(202);
      await windowed.waitFor(sent.json<{ id: string }>().id, ACCEPTED);

      await windowed.signedPost(INBOUND, inboundParams(from, ' stop '));
      expect((await windowed.send({ to: from, message: 'more?' })).json()).toMatchObject({
        code: 'RECIPIENT_OPTED_OUT',
      });
      await windowed.signedPost(INBOUND, inboundParams(from, 'START'));
      expect((await windowed.send({ to: from, message: 'welcome back' })).statusCode).toBe(202);
    } finally {
      await windowed.close();
    }
  });
});

describe('webhook signatures across deployments', () => {
  it('should accept the previous token during a rotation, and the new one, and nothing else', async () => {
    const stack = await Stack.start({
      TWILIO_AUTH_TOKEN: 'the-new-auth-token-1',
      TWILIO_AUTH_TOKEN_PREVIOUS: 'sim-test-auth-token-0123',
    });
    try {
      const sid = newSid();
      await seedMessage(stack, sid);
      expect((await stack.signedPost(STATUS, statusParams(sid, 'sent'))).statusCode).toBe(200);
      expect(
        (
          await stack.signedPost(STATUS, statusParams(sid, 'delivered'), {
            authToken: 'the-new-auth-token-1',
          })
        ).statusCode,
      ).toBe(200);
      expect(
        (
          await stack.signedPost(STATUS, statusParams(sid, 'read'), {
            authToken: 'some-other-token-000',
          })
        ).statusCode,
      ).toBe(403);
    } finally {
      await stack.close();
    }
  });

  it('should validate with or without the default port in PUBLIC_BASE_URL', async () => {
    const stack = await Stack.start({ PUBLIC_BASE_URL: 'https://api.example.com:443' });
    try {
      const sid = newSid();
      await seedMessage(stack, sid);
      // Twilio signed the URL without the port; our configured URL carries it.
      const params = statusParams(sid, 'sent');
      const { twilioSignature } = await import('../../src/simulator/twilio-signature');
      const { encodeForm } = await import('../../src/simulator/form');
      const res = await stack.app.inject({
        method: 'POST',
        url: STATUS,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(
            'sim-test-auth-token-0123',
            `https://api.example.com${STATUS}`,
            params,
          ),
        },
        payload: encodeForm(params),
      });
      expect(res.statusCode).toBe(200);
    } finally {
      await stack.close();
    }
  });

  it('should let bad signatures through but count them with SIGNATURE_MODE=report', async () => {
    const stack = await Stack.start({ SIGNATURE_MODE: 'report' });
    try {
      const sid = newSid();
      const id = await seedMessage(stack, sid);
      const res = await stack.signedPost(STATUS, statusParams(sid, 'sent'), {
        headers: { 'x-twilio-signature': 'wrong' },
      });
      expect(res.statusCode).toBe(200);
      expect((await stack.row(id)).status).toBe('sent');
      const metrics = await stack.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(
        /twilio_webhook_requests_total\{endpoint="status",result="bad_signature"\} 1/,
      );
    } finally {
      await stack.close();
    }
  });

  it("should answer 503 while Postgres is unreachable, and apply Twilio's retry once it is back", async () => {
    const pg = new URL(testDatabaseUrl());
    const proxy = await new TcpProxy(pg.hostname, Number(pg.port || 5432)).start();
    const stack = await Stack.start({ DATABASE_URL: proxy.rewrite(testDatabaseUrl()) });
    try {
      const sid = newSid();
      const id = await seedMessage(stack, sid);
      proxy.cut();
      const started = Date.now();
      const down = await stack.signedPost(`${STATUS}?mid=${id}`, statusParams(sid, 'delivered'), {
        token: 'retry-1',
      });
      process.stdout.write(
        `webhook answer with Postgres cut: ${down.statusCode} after ${Date.now() - started} ms\n`,
      );
      expect(down.statusCode).toBe(503);
      expect(down.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      proxy.restore();
      const retried = await stack.signedPost(
        `${STATUS}?mid=${id}`,
        statusParams(sid, 'delivered'),
        { token: 'retry-1' },
      );
      expect(retried.statusCode).toBe(200);
      expect((await stack.row(id)).status).toBe('delivered');
    } finally {
      proxy.restore();
      await stack.close();
      await proxy.stop();
    }
  });
});
