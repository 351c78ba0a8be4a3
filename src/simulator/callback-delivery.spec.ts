import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deliverWebhook } from './callback-delivery';
import { twilioSignature } from './twilio-signature';

// Real sockets on 127.0.0.1: what a receiver sees, and how each failure is classified and retried.

interface Seen {
  headers: IncomingMessage['headers'];
  body: string;
}

async function receiver(
  answer: (attempt: number, response: import('node:http').ServerResponse) => void,
) {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.push({ headers: request.headers, body: Buffer.concat(chunks).toString() });
      answer(seen.length, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, seen, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const closeAll = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

const params = {
  MessageSid: `SM${'1'.repeat(32)}`,
  MessageStatus: 'sent',
  To: 'whatsapp:+14155550100',
};

describe('deliverWebhook', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map(closeAll));
  });

  it('should post the signed form with the proxy headers of an https URL, once on success', async () => {
    const { server, seen, origin } = await receiver((_n, response) => response.end('<Response/>'));
    servers.push(server);
    const url = 'https://api.example.com/api/v1/whatsapp/status?mid=m1#rc=3&rp=all';
    const result = await deliverWebhook({
      url,
      deliverTo: origin,
      authToken: 'token',
      params,
      idempotencyToken: 'tok-1',
    });
    expect(result).toEqual({ status: 200, attempts: 1, body: '<Response/>', failure: null });
    expect(seen).toHaveLength(1);
    expect(seen[0].headers).toMatchObject({
      'x-twilio-signature': twilioSignature('token', url, params),
      'i-twilio-idempotency-token': 'tok-1',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'api.example.com',
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    });
    expect(new URLSearchParams(seen[0].body).get('MessageStatus')).toBe('sent');
  });

  it('should retry a 5xx with the same token only when the URL asks for it', async () => {
    const { server, seen, origin } = await receiver((n, response) => {
      response.statusCode = n === 1 ? 503 : 200;
      response.end();
    });
    servers.push(server);
    const asked = await deliverWebhook({
      url: `${origin}/cb#rc=2&rp=5xx`,
      deliverTo: origin,
      authToken: 't',
      params,
      idempotencyToken: 'tok-2',
    });
    expect(asked).toMatchObject({ status: 200, attempts: 2, failure: null });
    expect(seen.map((entry) => entry.headers['i-twilio-idempotency-token'])).toEqual([
      'tok-2',
      'tok-2',
    ]);
    const defaults = await deliverWebhook({
      url: `${origin}/cb`,
      deliverTo: origin,
      authToken: 't',
      params,
      idempotencyToken: 'tok-3',
    });
    expect(defaults).toMatchObject({ status: 200, attempts: 1 });
  });

  it('should count a refused connection as ct (retried by default) and report no status', async () => {
    const { server, origin } = await receiver((_n, response) => response.end());
    await closeAll(server);
    const result = await deliverWebhook({
      url: `${origin}/cb`,
      deliverTo: origin,
      authToken: 't',
      params,
      idempotencyToken: 'tok-4',
    });
    expect(result).toMatchObject({
      status: null,
      attempts: 2,
      error: 'ECONNREFUSED',
      failure: 'ct',
    });
  });

  it('should give up on a silent receiver after the read timeout, as rt', async () => {
    const { server, seen, origin } = await receiver(() => undefined);
    servers.push(server);
    const started = Date.now();
    const notAsked = await deliverWebhook({
      url: `${origin}/cb#rt=150`,
      deliverTo: origin,
      authToken: 't',
      params,
      idempotencyToken: 'tok-5',
    });
    expect(notAsked).toMatchObject({ status: null, attempts: 1, failure: 'rt' });
    const asked = await deliverWebhook({
      url: `${origin}/cb#rt=150&rc=1&rp=rt`,
      deliverTo: origin,
      authToken: 't',
      params,
      idempotencyToken: 'tok-6',
    });
    expect(asked).toMatchObject({ status: null, attempts: 2 });
    expect(seen).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('should report a 5xx left after the retries as its failure', async () => {
    const { server, origin } = await receiver((_n, response) => {
      response.statusCode = 502;
      response.end();
    });
    servers.push(server);
    const result = await deliverWebhook({
      url: `${origin}/cb`,
      deliverTo: origin,
      authToken: 't',
      params,
      idempotencyToken: 'tok-7',
    });
    expect(result).toMatchObject({ status: 502, attempts: 1, failure: '5xx' });
  });

  it('should start the read timeout when the request is written, not while it waits for a connection', async () => {
    // One connection at a time, each answer after 250 ms, a read timeout of 400 ms: the third
    // callback waits 500 ms for the connection, then is answered 250 ms after it is written.
    const { server, origin } = await receiver((_n, response) => {
      setTimeout(() => response.end(), 250);
    });
    servers.push(server);
    const results = await Promise.all(
      ['a', 'b', 'c'].map((token) =>
        deliverWebhook({
          url: `${origin}/cb#rt=400`,
          deliverTo: origin,
          authToken: 't',
          params,
          idempotencyToken: token,
          concurrency: 1,
        }),
      ),
    );
    expect(results.map((result) => result.failure)).toEqual([null, null, null]);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
  });
});
