import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';

/** One item of an envelope: its header (`type`: event, session, client_report…) and payload. */
export interface EnvelopeItem {
  type: string;
  payload: Record<string, unknown>;
}

/** An error event as Sentry's ingest receives it (the fields the tests read). */
export interface ReceivedEvent {
  event_id: string;
  tags?: Record<string, string>;
  exception?: { values?: { type?: string; value?: string }[] };
  request?: Record<string, unknown>;
  breadcrumbs?: Record<string, unknown>[];
}

/**
 * A stand-in for Sentry's ingest: records every envelope posted to `/api/<project>/envelope/`
 * (the raw text, for "nothing secret anywhere" checks, and its parsed items).
 */
export class SentryReceiver {
  readonly envelopes: { path: string; raw: string; items: EnvelopeItem[] }[] = [];
  private server: Server | undefined;
  private port = 0;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        const raw = (
          request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body
        ).toString('utf8');
        this.envelopes.push({ path: request.url ?? '', raw, items: parseEnvelope(raw) });
        response.statusCode = 200;
        response.setHeader('content-type', 'application/json');
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    this.port = address.port;
    return this;
  }

  /** A DSN whose ingest is this receiver (project 1). */
  get dsn(): string {
    return `http://publickey@127.0.0.1:${this.port}/1`;
  }

  /** Every error event received so far. */
  events(): ReceivedEvent[] {
    return this.envelopes.flatMap((envelope) =>
      envelope.items
        .filter((item) => item.type === 'event')
        .map((item) => item.payload as unknown as ReceivedEvent),
    );
  }

  /** Everything received, as one text. */
  rawText(): string {
    return this.envelopes.map((envelope) => envelope.raw).join('\n');
  }

  /** Waits for an error event that `match` accepts (or fails after `timeoutMs`). */
  async waitForEvent(
    match: (event: ReceivedEvent) => boolean,
    timeoutMs = 10_000,
  ): Promise<ReceivedEvent> {
    const started = Date.now();
    for (;;) {
      const found = this.events().find(match);
      if (found) return found;
      if (Date.now() - started > timeoutMs) {
        throw new Error(`no matching Sentry event; got ${JSON.stringify(this.events())}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** An envelope: a header line, then per item a header line and a JSON payload line. */
function parseEnvelope(raw: string): EnvelopeItem[] {
  const lines = raw.split('\n');
  const items: EnvelopeItem[] = [];
  for (let index = 1; index + 1 < lines.length; index += 2) {
    const header = JSON.parse(lines[index]) as { type: string };
    items.push({
      type: header.type,
      payload: JSON.parse(lines[index + 1]) as EnvelopeItem['payload'],
    });
  }
  return items;
}
