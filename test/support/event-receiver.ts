import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface ReceivedEvent {
  headers: IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; data: Record<string, unknown> } & Record<string, unknown>;
  /** The status it was answered with (0: left unanswered). */
  status: number;
  receivedAt: number;
}

/**
 * A client's receiver for our signed event webhooks: records every POST and answers with what
 * `respond` says (default 200). `accepted()` is what a receiver would have processed: the 2xx.
 */
export class EventReceiver {
  readonly received: ReceivedEvent[] = [];
  /** The answer to each request; null leaves it unanswered (a receiver that hangs). */
  respond: (
    event: Omit<ReceivedEvent, 'status'>,
    index: number,
  ) => number | { status: number; headers?: Record<string, string> } | null = () => 200;
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: ReceivedEvent['json'];
        try {
          json = JSON.parse(body) as ReceivedEvent['json'];
        } catch {
          json = { id: '', type: 'unparsable', data: {} };
        }
        const event = { headers: request.headers, body, json, receivedAt: Date.now() };
        const answer = this.respond(event, this.received.length);
        if (answer === null) {
          this.received.push({ ...event, status: 0 });
          return;
        }
        const { status, headers = {} } = typeof answer === 'number' ? { status: answer } : answer;
        this.received.push({ ...event, status });
        for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
        response.statusCode = status;
        response.end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    this.url = `http://127.0.0.1:${address.port}/hooks`;
    return this;
  }

  /** The events answered 2xx, in arrival order. */
  accepted(): ReceivedEvent[] {
    return this.received.filter((event) => event.status >= 200 && event.status < 300);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Waits until `done(received)` holds (or fails after `timeoutMs`, saying what arrived). */
  async waitUntil(
    done: (received: ReceivedEvent[]) => boolean,
    timeoutMs = 20_000,
  ): Promise<ReceivedEvent[]> {
    const started = Date.now();
    while (!done(this.received)) {
      if (Date.now() - started > timeoutMs) {
        throw new Error(
          `the receiver did not get what was expected; got ${this.received.length}: ${this.received
            .map((event) => `${event.json.type}/${String(event.json.id)}→${event.status}`)
            .join(', ')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.received;
  }
}
