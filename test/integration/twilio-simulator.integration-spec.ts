import { createServer, type Server, type Socket } from 'node:net';
import twilio from 'twilio';
import { TwilioClient } from '../../src/modules/twilio/twilio.client';
import { TwilioApiError, TwilioNetworkError } from '../../src/modules/twilio/twilio.errors';
import { firstValue } from '../../src/simulator/form';
import {
  SIM_ACCOUNT_SID,
  SIM_AUTH_TOKEN,
  startSimulator,
  type RunningTestSimulator,
} from '../support/simulator';
import { WebhookReceiver, type ReceivedWebhook } from '../support/webhook-receiver';

const TO = 'whatsapp:+14155550100';
const FROM = 'whatsapp:+14155238886';

function clientFor(baseUrl: string, timeoutMs = 5_000): TwilioClient {
  return new TwilioClient({
    accountSid: SIM_ACCOUNT_SID,
    authToken: SIM_AUTH_TOKEN,
    apiBaseUrl: baseUrl,
    timeoutMs,
  });
}

async function simMessages(sim: RunningTestSimulator) {
  const res = await fetch(`${sim.url}/__sim/messages`);
  return (await res.json()) as {
    messages: { sid: string; mid: string | null; status: string; errorCode: number | null }[];
    creates: { mid: string; to: string | null; count: number; accepted: number }[];
  };
}

function validates(hook: ReceivedWebhook, signedUrl: string): boolean {
  const signature = hook.headers['x-twilio-signature'];
  return twilio.validateRequest(SIM_AUTH_TOKEN, String(signature), signedUrl, hook.params);
}

async function expectTwilioError(promise: Promise<unknown>): Promise<TwilioApiError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(TwilioApiError);
  return error as TwilioApiError;
}

describe('Twilio adapter against the simulator (REST contract)', () => {
  let receiver: WebhookReceiver;
  let sim: RunningTestSimulator;
  let client: TwilioClient;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    sim = await startSimulator(receiver.url);
    client = clientFor(sim.url);
  });

  afterAll(async () => {
    await sim.close();
    await receiver.stop();
  });

  beforeEach(async () => {
    await fetch(`${sim.url}/__sim/reset`, { method: 'POST' });
    await sim.configure({ callbackDelayMs: { min: 0, max: 5 } });
  });

  it('should create a message and answer queued with a fresh SM sid', async () => {
    const message = await client.createMessage({
      to: TO,
      from: FROM,
      body: 'Hello + 100% café',
      mediaUrls: ['https://example.com/a.jpg', 'https://example.com/b.png'],
      statusCallback: 'https://api.example.com/api/v1/whatsapp/status?mid=m-1#rc=3&rp=5xx,rt,ct',
    });
    expect(message.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(message.status).toBe('queued');
    expect(message).toMatchObject({ to: TO, from: FROM, body: 'Hello + 100% café', numMedia: 2 });
    expect(message.dateCreated).toBeInstanceOf(Date);
    const truth = await simMessages(sim);
    expect(truth.creates).toEqual([{ mid: 'm-1', to: TO, count: 1, accepted: 1 }]);
  });

  it('should answer accepted when a messaging service sends a template', async () => {
    const message = await client.createMessage({
      to: TO,
      messagingServiceSid: `MG${'2'.repeat(32)}`,
      contentSid: `HX${'3'.repeat(32)}`,
      contentVariables: { '1': 'March 25' },
    });
    expect(message.status).toBe('accepted');
    expect(message.messagingServiceSid).toBe(`MG${'2'.repeat(32)}`);
    const truth = await simMessages(sim);
    expect(truth.messages[0]).toMatchObject({ contentSid: `HX${'3'.repeat(32)}` });
  });

  it('should fetch a message by sid and see it move to its final status', async () => {
    const created = await client.createMessage({ to: TO, from: FROM, body: 'x' });
    let fetched = await client.fetchMessage(created.sid);
    for (let i = 0; i < 100 && fetched.status !== 'read'; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      fetched = await client.fetchMessage(created.sid);
    }
    expect(fetched).toMatchObject({ sid: created.sid, status: 'read', errorCode: null });
    expect(fetched.dateSent).toBeInstanceOf(Date);
  });

  it('should answer an unknown sid with 404 code 20404', async () => {
    const error = await expectTwilioError(client.fetchMessage(`SM${'0'.repeat(32)}`));
    expect(error).toMatchObject({ status: 404, code: 20404 });
  });

  it('should list by To and From, newest first, across pages', async () => {
    const sids: string[] = [];
    for (let i = 0; i < 7; i += 1)
      sids.push((await client.createMessage({ to: TO, from: FROM, body: `m${i}` })).sid);
    await client.createMessage({ to: 'whatsapp:+14155550199', from: FROM, body: 'other' });
    const listed = await client.listMessages({ to: TO, from: FROM, limit: 100 });
    expect(listed.map((message) => message.sid)).toEqual([...sids].reverse());
    const paged = await new TwilioClient({
      accountSid: SIM_ACCOUNT_SID,
      authToken: SIM_AUTH_TOKEN,
      apiBaseUrl: sim.url,
      timeoutMs: 5_000,
    }).listMessages({ to: TO, limit: 5 });
    expect(paged).toHaveLength(5);
  });

  it('should filter the list by DateSent>', async () => {
    await client.createMessage({ to: TO, from: FROM, body: 'old' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const since = new Date();
    const recent = await client.createMessage({ to: TO, from: FROM, body: 'new' });
    const listed = await client.listMessages({ to: TO, dateSentAfter: since });
    expect(listed.map((message) => message.sid)).toEqual([recent.sid]);
  });

  it.each([
    ['+15005550001', 21211],
    ['+15005550002', 21612],
    ['+15005550003', 21408],
    ['+15005550004', 21610],
    ['+15005550009', 21614],
    ['+15005550016', 63016],
  ])(
    'should fail the magic number %s with %i, counting the call as attempted',
    async (number, code) => {
      const error = await expectTwilioError(
        client.createMessage({
          to: `whatsapp:${number}`,
          from: FROM,
          body: 'x',
          statusCallback: 'http://h/s?mid=magic',
        }),
      );
      expect(error).toMatchObject({ status: 400, code });
      expect(error.moreInfo).toBe(`https://www.twilio.com/docs/errors/${code}`);
      const truth = await simMessages(sim);
      expect(truth.messages).toHaveLength(0);
      expect(truth.creates).toEqual([
        { mid: 'magic', to: `whatsapp:${number}`, count: 1, accepted: 0 },
      ]);
    },
  );

  it('should answer every Nth create with 429 and Retry-After, creating nothing', async () => {
    await sim.configure({ burst429: { every: 2, retryAfterS: 7 } });
    await client.createMessage({ to: TO, from: FROM, body: 'first' });
    const error = await expectTwilioError(
      client.createMessage({ to: TO, from: FROM, body: 'second' }),
    );
    expect(error).toMatchObject({ status: 429, code: 20429, retryAfterSeconds: 7 });
    expect((await simMessages(sim)).messages).toHaveLength(1);
  });

  it('should count a 429 then a success for one mid as 2 calls, 1 accepted', async () => {
    await sim.configure({ burst429: { every: 2, retryAfterS: 0 } });
    const send = (mid: string) =>
      client.createMessage({
        to: TO,
        from: FROM,
        body: mid,
        statusCallback: `http://h/s?mid=${mid}`,
      });
    await send('before');
    const error = await expectTwilioError(send('retried'));
    expect(error).toMatchObject({ status: 429, code: 20429 });
    const created = await send('retried');
    const truth = await simMessages(sim);
    expect(truth.creates).toEqual([
      { mid: 'before', to: TO, count: 1, accepted: 1 },
      { mid: 'retried', to: TO, count: 2, accepted: 1 },
    ]);
    expect(truth.messages.filter((message) => message.mid === 'retried')).toEqual([
      expect.objectContaining({ sid: created.sid }),
    ]);
  });

  it('should create the message yet answer 500 when set to fail after accepting (the double-send trap)', async () => {
    await sim.configure({ fiveXxAfterAcceptRate: 1 });
    const error = await expectTwilioError(
      client.createMessage({
        to: TO,
        from: FROM,
        body: 'x',
        statusCallback: 'http://h/s?mid=trap',
      }),
    );
    expect(error).toMatchObject({ status: 500, code: 20500 });
    const truth = await simMessages(sim);
    expect(truth.messages).toEqual([expect.objectContaining({ mid: 'trap' })]);
    // One call, and it was accepted: the 500 came after the message existed.
    expect(truth.creates).toEqual([{ mid: 'trap', to: TO, count: 1, accepted: 1 }]);
  });

  it('should show a blind retry after a 5xx-after-accept as a second message (the trap sprung)', async () => {
    await sim.configure({ fiveXxAfterAcceptRate: 1 });
    const send = () =>
      client.createMessage({
        to: TO,
        from: FROM,
        body: 'x',
        statusCallback: 'http://h/s?mid=twice',
      });
    await expectTwilioError(send());
    await sim.configure({ fiveXxAfterAcceptRate: 0 });
    await send();
    const truth = await simMessages(sim);
    expect(truth.messages.filter((message) => message.mid === 'twice')).toHaveLength(2);
    expect(truth.creates).toEqual([{ mid: 'twice', to: TO, count: 2, accepted: 2 }]);
  });

  it('should refuse wrong credentials with 401 code 20003', async () => {
    const wrong = new TwilioClient({
      accountSid: SIM_ACCOUNT_SID,
      authToken: 'not-the-token-at-all',
      apiBaseUrl: sim.url,
      timeoutMs: 5_000,
    });
    const error = await expectTwilioError(
      wrong.createMessage({ to: TO, from: FROM, body: 'x', statusCallback: 'http://h/s?mid=401' }),
    );
    expect(error).toMatchObject({ status: 401, code: 20003 });
    // Refused before it reached the Messages resource: not a create call for any mid.
    expect((await simMessages(sim)).creates).toEqual([]);
  });

  it.each([
    [{ From: FROM, Body: 'x' }, 21604],
    [{ To: TO, Body: 'x' }, 21603],
    [{ To: TO, From: FROM }, 21602],
    [{ To: TO, From: FROM, Body: 'x'.repeat(1601) }, 21617],
  ])('should validate a create like Twilio (%p → %i), counting the call', async (params, code) => {
    const form = new URLSearchParams({
      ...(params as Record<string, string>),
      StatusCallback: 'http://h/s?mid=invalid',
    });
    const res = await fetch(`${sim.url}/2010-04-01/Accounts/${SIM_ACCOUNT_SID}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${SIM_ACCOUNT_SID}:${SIM_AUTH_TOKEN}`).toString('base64')}`,
      },
      body: form,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code,
      status: 400,
      more_info: expect.any(String),
      message: expect.any(String),
    });
    expect((await simMessages(sim)).creates).toEqual([
      { mid: 'invalid', to: 'To' in params ? TO : null, count: 1, accepted: 0 },
    ]);
  });
});

describe('Twilio adapter network failures', () => {
  it('should report a refused connection as kind connect (never processed)', async () => {
    const error = await clientFor('http://127.0.0.1:1')
      .createMessage({ to: TO, from: FROM, body: 'x' })
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(TwilioNetworkError);
    expect(error).toMatchObject({ kind: 'connect', maybeProcessed: false });
  });

  it('should report a silent server as kind timeout (maybe processed)', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const error = await clientFor(`http://127.0.0.1:${port}`, 300)
        .createMessage({ to: TO, from: FROM, body: 'x' })
        .catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(TwilioNetworkError);
      expect(error).toMatchObject({ kind: 'timeout', maybeProcessed: true });
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('status callbacks from the simulator', () => {
  let receiver: WebhookReceiver;
  let sim: RunningTestSimulator;
  let client: TwilioClient;

  beforeEach(async () => {
    receiver = await new WebhookReceiver().start();
    sim = await startSimulator(receiver.url);
    client = clientFor(sim.url);
  });

  afterEach(async () => {
    await sim.close();
    await receiver.stop();
  });

  it('should sign every callback so that twilio.validateRequest accepts it over the exact URL given', async () => {
    const given = 'https://api.example.com/api/v1/whatsapp/status?mid=m-42&tenant=a%20b';
    const created = await client.createMessage({
      to: TO,
      from: FROM,
      body: 'x',
      statusCallback: `${given}#rc=3&rp=all`,
    });
    const hooks = await receiver.waitFor(3);
    expect(hooks.map((hook) => firstValue(hook.params.MessageStatus))).toEqual([
      'sent',
      'delivered',
      'read',
    ]);
    for (const hook of hooks) {
      expect(validates(hook, given)).toBe(true);
      expect(hook.path).toBe('/api/v1/whatsapp/status?mid=m-42&tenant=a%20b');
      expect(hook.headers['x-forwarded-proto']).toBe('https');
      expect(hook.headers['x-forwarded-host']).toBe('api.example.com');
      expect(hook.headers['i-twilio-idempotency-token']).toEqual(expect.any(String));
      expect(hook.params).toMatchObject({
        MessageSid: created.sid,
        SmsSid: created.sid,
        AccountSid: SIM_ACCOUNT_SID,
        From: FROM,
        To: TO,
        ApiVersion: '2010-04-01',
        ChannelPrefix: 'whatsapp',
        ChannelToAddress: '+14155550100',
      });
      // The fragment is not signed: including it must fail, as must any tampering.
      expect(validates(hook, `${given}#rc=3&rp=all`)).toBe(false);
      expect(
        validates({ ...hook, params: { ...hook.params, MessageStatus: 'failed' } }, given),
      ).toBe(false);
      expect(validates(hook, given.replace('m-42', 'm-43'))).toBe(false);
    }
  });

  it('should report failures with ErrorCode and ErrorMessage, and no read', async () => {
    await sim.configure({ failRate: 1, failCode: 63016 });
    await client.createMessage({
      to: TO,
      from: FROM,
      body: 'x',
      statusCallback: `${receiver.url}/cb`,
    });
    const [hook] = await receiver.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.received).toHaveLength(1);
    expect(hook.params).toMatchObject({
      MessageStatus: 'failed',
      ErrorCode: '63016',
      ErrorMessage: expect.any(String),
    });
  });

  it('should report carrier receipt codes as sent then undelivered', async () => {
    await sim.configure({ failRate: 1, failCode: 30008 });
    const created = await client.createMessage({
      to: TO,
      from: FROM,
      body: 'x',
      statusCallback: `${receiver.url}/cb`,
    });
    const hooks = await receiver.waitFor(2);
    expect(hooks.map((hook) => [hook.params.MessageStatus, hook.params.ErrorCode])).toEqual([
      ['sent', undefined],
      ['undelivered', '30008'],
    ]);
    expect((await client.fetchMessage(created.sid)).errorCode).toBe(30008);
  });

  it('should stop at delivered when read receipts are off', async () => {
    await sim.configure({ read: false });
    await client.createMessage({
      to: TO,
      from: FROM,
      body: 'x',
      statusCallback: `${receiver.url}/cb`,
    });
    await receiver.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(receiver.received.map((hook) => hook.params.MessageStatus)).toEqual([
      'sent',
      'delivered',
    ]);
  });

  it('should retry a 5xx with the same idempotency token only when the URL asks for it', async () => {
    receiver.respond = (_hook, index) => (index === 0 ? 503 : 200);
    await sim.configure({ read: false, callbackDelayMs: { min: 0, max: 0 } });
    await client.createMessage({
      to: TO,
      from: FROM,
      body: 'x',
      statusCallback: `${receiver.url}/cb?mid=1#rc=2&rp=5xx`,
    });
    const hooks = await receiver.waitFor(3);
    const sentCopies = hooks.filter((hook) => hook.params.MessageStatus === 'sent');
    expect(sentCopies).toHaveLength(2);
    expect(sentCopies[0].headers['i-twilio-idempotency-token']).toBe(
      sentCopies[1].headers['i-twilio-idempotency-token'],
    );
  });

  it('should not retry a 5xx under Twilio defaults (retry on connect failure only)', async () => {
    receiver.respond = () => 500;
    await sim.configure({ read: false });
    await client.createMessage({
      to: TO,
      from: FROM,
      body: 'x',
      statusCallback: `${receiver.url}/cb`,
    });
    await receiver.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(receiver.received).toHaveLength(2);
  });

  it('should count in /__sim/stats what became of the callbacks: answered, failed by reason, dropped, duplicated', async () => {
    const stats = async () =>
      (
        (await (await fetch(`${sim.url}/__sim/stats`)).json()) as {
          callbacks: {
            planned: number;
            dropped: number;
            duplicated: number;
            sent: number;
            answered: number;
            failed: Record<string, number>;
          };
        }
      ).callbacks;
    // sent and delivered, each sent twice; the receiver fails every other request.
    receiver.respond = (_hook, index) => (index % 2 === 0 ? 200 : 500);
    await sim.configure({ read: false, duplicateRate: 1, callbackDelayMs: { min: 0, max: 0 } });
    await client.createMessage({
      to: TO,
      from: FROM,
      body: 'x',
      statusCallback: `${receiver.url}/cb`,
    });
    await receiver.waitFor(4);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await stats()).toMatchObject({
      planned: 4,
      duplicated: 2,
      dropped: 0,
      sent: 4,
      answered: 2,
      failed: { ct: 0, rt: 0, '4xx': 0, '5xx': 2 },
    });
    // Every callback dropped: counted, never sent.
    await sim.configure({ duplicateRate: 0, dropRate: 1 });
    await client.createMessage({
      to: TO,
      from: FROM,
      body: 'y',
      statusCallback: `${receiver.url}/cb`,
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await stats()).toMatchObject({ planned: 4, dropped: 2, sent: 4 });
  });

  describe('over 200 messages', () => {
    async function sendMany(count: number): Promise<string[]> {
      const sids: string[] = [];
      for (let i = 0; i < count; i += 1) {
        const message = await client.createMessage({
          to: TO,
          from: FROM,
          body: `n${i}`,
          statusCallback: `${receiver.url}/cb?mid=${i}`,
        });
        sids.push(message.sid);
      }
      return sids;
    }

    async function settle(): Promise<void> {
      let last = -1;
      while (last !== receiver.received.length) {
        last = receiver.received.length;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }

    it('should drop every callback at dropRate 1 while the truth still reaches read', async () => {
      await sim.configure({ dropRate: 1 });
      await sendMany(200);
      await settle();
      expect(receiver.received).toHaveLength(0);
      const truth = await simMessages(sim);
      expect(truth.messages.map((message) => message.status)).toEqual(Array(200).fill('read'));
      expect(truth.creates).toHaveLength(200);
      expect(truth.creates.every((create) => create.count === 1 && create.accepted === 1)).toBe(
        true,
      );
    });

    it('should send each event twice at duplicateRate 1', async () => {
      await sim.configure({ duplicateRate: 1 });
      await sendMany(200);
      await receiver.waitFor(1200);
      await settle();
      expect(receiver.received).toHaveLength(1200);
      const perEvent = new Map<string, number>();
      for (const hook of receiver.received) {
        const key = `${String(hook.params.MessageSid)}/${String(hook.params.MessageStatus)}`;
        perEvent.set(key, (perEvent.get(key) ?? 0) + 1);
      }
      expect(perEvent.size).toBe(600);
      expect([...perEvent.values()].every((count) => count === 2)).toBe(true);
    });

    it("should deliver each message's callbacks out of order at reorderRate 1", async () => {
      await sim.configure({ reorderRate: 1, callbackDelayMs: { min: 10, max: 20 } });
      const sids = await sendMany(200);
      await receiver.waitFor(600);
      for (const sid of sids) {
        const order = receiver.received
          .filter((hook) => hook.params.MessageSid === sid)
          .map((hook) => hook.params.MessageStatus);
        expect(order).toEqual(['read', 'delivered', 'sent']);
      }
    });

    it('should leave rates at 0 in order, once each', async () => {
      const sids = await sendMany(200);
      await receiver.waitFor(600);
      await settle();
      expect(receiver.received).toHaveLength(600);
      for (const sid of sids.slice(0, 20)) {
        const order = receiver.received
          .filter((hook) => hook.params.MessageSid === sid)
          .map((hook) => hook.params.MessageStatus);
        expect(order).toEqual(['sent', 'delivered', 'read']);
      }
    });
  });
});

describe('inbound messages from the simulator', () => {
  let receiver: WebhookReceiver;
  let sim: RunningTestSimulator;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    sim = await startSimulator(receiver.url, {}, 'https://api.example.com');
  });

  afterAll(async () => {
    await sim.close();
    await receiver.stop();
  });

  it('should post a signed WhatsApp inbound webhook and answer after the app did', async () => {
    const res = await fetch(`${sim.url}/__sim/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        from: '+14155550100',
        body: 'Olá + 50% off?',
        mediaUrl: ['https://example.com/photo.jpg'],
        profileName: 'Ana',
      }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { messageSid: string; webhookStatus: number };
    expect(answer).toEqual({
      messageSid: expect.stringMatching(/^MM[0-9a-f]{32}$/),
      webhookStatus: 200,
    });
    expect(receiver.received).toHaveLength(1);
    const [hook] = receiver.received;
    expect(hook.path).toBe('/api/v1/whatsapp/webhook');
    expect(validates(hook, 'https://api.example.com/api/v1/whatsapp/webhook')).toBe(true);
    expect(hook.params).toMatchObject({
      MessageSid: answer.messageSid,
      SmsMessageSid: answer.messageSid,
      From: 'whatsapp:+14155550100',
      To: 'whatsapp:+14155238886',
      Body: 'Olá + 50% off?',
      WaId: '14155550100',
      ProfileName: 'Ana',
      NumMedia: '1',
      MediaUrl0: 'https://example.com/photo.jpg',
      MediaContentType0: 'image/jpeg',
      SmsStatus: 'received',
    });
  });

  it('should refuse an inbound request without a valid from', async () => {
    const res = await fetch(`${sim.url}/__sim/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'nobody' }),
    });
    expect(res.status).toBe(400);
  });

  it('should refuse unknown or invalid knobs, naming them', async () => {
    const res = await fetch(`${sim.url}/__sim/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ failRate: 2, bogus: true }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { message: string };
    expect(body.message).toMatch(/failRate/);
    expect(body.message).toMatch(/bogus/);
  });
});
