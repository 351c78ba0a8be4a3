import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { FormParams } from '../../src/simulator/twilio-signature';
import { createUser } from '../factories/users.factory';
import { signedWebhook } from '../support/signed-webhook';
import { startTestApp, type TestApp } from '../support/test-app';

// One log line per request, and it says what the request did: a send's line carries its
// message id and the masked number, a webhook's line the SID and outcome — no second line per
// request, no full phone number.

describe('the request log line', () => {
  let test: TestApp;
  let logged = '';
  const lines = () =>
    logged
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    test = await startTestApp({ WINDOW_CHECK: 'off' }, undefined, pino({ level: 'info' }, sink));
  });

  afterAll(async () => {
    await test.close();
  });

  const signedPost = (path: string, params: FormParams) => signedWebhook(test, path, params);

  it('should carry a send’s message id and masked number on its one line', async () => {
    const sender = await createUser(test.app, 'sender');
    logged = '';
    const response = await test.app.inject({
      method: 'POST',
      url: '/api/v1/whatsapp/send',
      headers: { authorization: `Bearer ${sender.token}` },
      payload: { to: '+14155550177', message: 'hello' },
    });
    expect(response.statusCode).toBe(202);
    const id = response.json<{ id: string }>().id;
    const mine = lines().filter((line) => line.messageId === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      msg: 'request completed',
      route: '/api/v1/whatsapp/send',
      statusCode: 202,
      queued: true,
    });
    expect(mine[0].requestId).toEqual(expect.any(String));
    expect(logged).not.toContain('4155550177');
  });

  it('should carry a webhook’s SID and outcome on its one line', async () => {
    const sid = `SM${randomBytes(16).toString('hex')}`;
    logged = '';
    const inbound = await signedPost('/api/v1/whatsapp/webhook', {
      AccountSid: test.config.twilio.accountSid,
      Body: 'STOP',
      From: 'whatsapp:+14155550188',
      MessageSid: sid,
      To: 'whatsapp:+14155238886',
    });
    expect(inbound.statusCode).toBe(200);
    const status = await signedPost('/api/v1/whatsapp/status', {
      AccountSid: test.config.twilio.accountSid,
      MessageSid: `SM${randomBytes(16).toString('hex')}`,
      MessageStatus: 'delivered',
    });
    expect(status.statusCode).toBe(200);
    const requests = lines().filter((line) => line.msg === 'request completed');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ sid, outcome: 'stored', optOut: true });
    expect(requests[1]).toMatchObject({ status: 'delivered', outcome: 'orphan' });
    expect(lines()).toHaveLength(2);
    expect(logged).not.toContain('4155550188');
  });
});
