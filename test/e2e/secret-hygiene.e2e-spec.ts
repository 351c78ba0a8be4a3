import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { twilioSignature } from '../../src/simulator/twilio-signature';
import { EventReceiver } from '../support/event-receiver';
import { signedWebhook } from '../support/signed-webhook';
import { Stack } from '../support/stack';

// Everything a deployment does with a secret, at LOG_LEVEL=debug, with the log kept: logins
// (one refused), an API key made and used, a subscription made and its secret rotated, a send
// whose callbacks come back signed, an inbound message, events delivered signed. The log must
// hold none of the secrets it saw, no full token or signature, no full phone number.

describe('secret hygiene in the log', () => {
  it('should log none of the secrets, tokens, signatures or full numbers a full flow handles', async () => {
    let logged = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    const receiver = await new EventReceiver().start();
    // An admin of its own, made through the API, so its password is a real secret (the
    // development default is public, and said once at boot on purpose).
    const admin = {
      email: `hygiene-${randomBytes(4).toString('hex')}@example.com`,
      password: `pw-${randomBytes(12).toString('hex')}`,
    };
    const stack = await Stack.start(
      { WINDOW_CHECK: 'off', LOG_LEVEL: 'debug', EVENTS_ALLOW_PRIVATE: 'on' },
      {},
      { listen: true, logger: pino({ level: 'debug' }, sink) },
    );
    const secrets: Record<string, string> = {
      'Twilio auth token': stack.test.config.twilio.authToken,
      'JWT secret': stack.test.config.jwt.secret,
      'admin password': admin.password,
    };
    try {
      const inject = (method: 'GET' | 'POST', url: string, token: string, payload?: object) =>
        stack.app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${token}` },
          ...(payload ? { payload } : {}),
        });

      const created = await inject('POST', '/api/v1/users', await stack.adminToken(), {
        ...admin,
        role: 'admin',
      });
      expect(created.statusCode).toBe(201);

      // Logins: one refused (its password is a secret too), one accepted.
      const wrong = `wrong-${randomBytes(8).toString('hex')}`;
      secrets['refused password'] = wrong;
      const refused = await stack.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: admin.email, password: wrong },
      });
      expect(refused.statusCode).toBe(401);
      const login = await stack.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: admin,
      });
      expect(login.statusCode).toBe(200);
      const jwt = login.json<{ accessToken: string }>().accessToken;
      secrets.JWT = jwt;

      // An API key, made and traded for a token (a refused one too).
      const made = await inject('POST', '/api/v1/api-keys', jwt, {});
      expect(made.statusCode).toBe(201);
      secrets['API key'] = made.json<{ key: string }>().key;
      const traded = await stack.app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        payload: { apiKey: secrets['API key'] },
      });
      expect(traded.statusCode).toBe(200);
      const keyToken = traded.json<{ accessToken: string }>().accessToken;
      secrets['token from the API key'] = keyToken;
      const bogusKey = `${secrets['API key'].slice(0, 12)}${randomBytes(12).toString('hex')}`;
      secrets['refused API key'] = bogusKey;
      const bogus = await stack.app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        payload: { apiKey: bogusKey },
      });
      expect(bogus.statusCode).toBe(401);
      expect((await inject('GET', '/api/v1/whatsapp/messages', keyToken)).statusCode).toBe(200);

      // A subscription, and its secret rotated.
      const subscribed = await inject('POST', '/api/v1/subscriptions', jwt, {
        url: receiver.url,
        events: ['message.status', 'message.inbound'],
      });
      expect(subscribed.statusCode).toBe(201);
      const subscription = subscribed.json<{ id: string; secret: string }>();
      secrets['subscription secret'] = subscription.secret;
      const rotated = await inject(
        'POST',
        `/api/v1/subscriptions/${subscription.id}/rotate-secret`,
        jwt,
      );
      expect(rotated.statusCode).toBe(201);
      secrets['rotated subscription secret'] = rotated.json<{ secret: string }>().secret;

      // A send, with the API key's token; its callbacks come back signed by the simulator.
      const to = `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
      const sent = await inject('POST', '/api/v1/whatsapp/send', keyToken, { to, message: 'hi' });
      expect(sent.statusCode).toBe(202);
      const id = sent.json<{ id: string }>().id;
      await stack.waitFor(id, (row) => row.status === 'read', 30_000);

      // An inbound message, signed as Twilio signs it.
      const from = `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
      const params = {
        MessageSid: `SM${randomBytes(16).toString('hex')}`,
        From: `whatsapp:${from}`,
        To: 'whatsapp:+14155238886',
        Body: 'hello',
        NumMedia: '0',
      };
      const path = '/api/v1/whatsapp/webhook';
      secrets['Twilio signature'] = twilioSignature(
        stack.test.config.twilio.authToken,
        `${stack.test.config.publicBaseUrl}${path}`,
        params,
      );
      expect((await signedWebhook(stack.test, path, params)).statusCode).toBe(200);

      // Events reach the receiver, each signed with both secrets during the overlap.
      for (let i = 0; i < 200; i += 1) {
        const types = receiver.accepted().map((event) => event.json.type);
        if (types.includes('message.inbound') && types.includes('message.status')) break;
        await sleep(100);
      }
      const delivered = receiver.accepted();
      expect(delivered.map((event) => event.json.type)).toContain('message.inbound');
      for (const [index, event] of delivered.entries()) {
        for (const [n, part] of String(event.headers['webhook-signature']).split(' ').entries()) {
          secrets[`event signature ${index}.${n}`] = part.slice(part.indexOf(',') + 1);
        }
      }

      // Both secrets signed each event during the rotation's overlap.
      expect(
        Object.keys(secrets).filter((name) => name.startsWith('event signature')),
      ).toHaveLength(2 * delivered.length);
      // The log (at debug level) saw this flow: the send, the callbacks, the requests.
      expect(logged.split('\n').filter(Boolean).length).toBeGreaterThan(10);
      expect(logged).toContain(id);
      const leaked = Object.entries(secrets)
        .filter(([, value]) => value.length >= 8 && logged.includes(value))
        .map(([name]) => name);
      expect(leaked).toEqual([]);
      for (const number of [to, from]) {
        expect(logged).not.toContain(number.slice(1));
        expect(logged).not.toContain(number.slice(-7));
      }
    } finally {
      await stack.close();
      await receiver.stop();
    }
  }, 90_000);
});
