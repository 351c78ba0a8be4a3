import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { parseForm } from '../../src/simulator/form';
import type { FormParams } from '../../src/simulator/twilio-signature';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  params: FormParams;
  receivedAt: number;
}

/** A plain HTTP server that records the webhooks the simulator posts. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Chooses the answer's status for each request (default 200). */
  respond: (hook: ReceivedWebhook, index: number) => number = () => 200;
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const hook = {
          path: request.url ?? '',
          headers: request.headers,
          params: parseForm(body),
          receivedAt: Date.now(),
        };
        this.received.push(hook);
        response.statusCode = this.respond(hook, this.received.length - 1);
        response.setHeader('content-type', 'text/xml');
        response.end('<?xml version="1.0" encoding="UTF-8"?><Response/>');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    this.url = `http://127.0.0.1:${address.port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Waits until `count` webhooks arrived (or fails after `timeoutMs`). */
  async waitFor(count: number, timeoutMs = 10_000): Promise<ReceivedWebhook[]> {
    const started = Date.now();
    while (this.received.length < count) {
      if (Date.now() - started > timeoutMs) {
        throw new Error(`expected ${count} webhooks, got ${this.received.length}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.received;
  }
}
