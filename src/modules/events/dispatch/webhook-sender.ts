import http from 'node:http';
import https from 'node:https';
import type { AttemptResult } from './delivery-moves';
import { parseRetryAfter } from './delivery-moves';
import {
  checkUrl,
  DestinationRefused,
  guardedLookup,
  type DestinationPolicy,
  type Resolver,
} from './destination-guard';

/** How much of a receiver's answer is read before the connection is dropped. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export interface SenderOptions {
  policy: DestinationPolicy;
  resolver: Resolver;
  timeoutMs: number;
  /** Sockets per receiver (keep-alive). */
  maxSockets: number;
}

/**
 * POSTs a signed event: JSON over keep-alive agents whose `lookup` refuses any address that is
 * not public unicast (unless private addresses are allowed), the URL checked again at every
 * attempt (an IP literal is never looked up), no redirect followed, the whole attempt bounded by
 * `timeoutMs`. Never throws: every outcome is an AttemptResult.
 */
export class WebhookSender {
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(private readonly options: SenderOptions) {
    const lookup = guardedLookup(options.policy, options.resolver);
    const common = { keepAlive: true, maxSockets: options.maxSockets, lookup };
    this.agents = { http: new http.Agent(common), https: new https.Agent(common) };
  }

  async post(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    let target: URL;
    try {
      target = checkUrl(url, this.options.policy);
    } catch (error) {
      return { kind: 'error', reason: reasonOf(error) };
    }
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (result: AttemptResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const client = target.protocol === 'https:' ? https : http;
      const request = client.request(
        target,
        {
          method: 'POST',
          agent: target.protocol === 'https:' ? this.agents.https : this.agents.http,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'whatsapp-backend-webhooks/1',
          },
        },
        (response) => {
          const status = response.statusCode ?? 0;
          const retryAfter: string | undefined = response.headers['retry-after'];
          let received = 0;
          response.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > MAX_RESPONSE_BYTES) response.destroy();
          });
          const done = (): void =>
            finish({
              kind: 'response',
              status,
              retryAfterSeconds: parseRetryAfter(retryAfter, new Date()),
            });
          response.on('end', done);
          response.on('close', done);
          response.on('error', done);
        },
      );
      const timer = setTimeout(() => {
        request.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      request.on('error', (error) => finish({ kind: 'error', reason: reasonOf(error) }));
      request.end(body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof DestinationRefused) return `refused: ${error.message}`;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return (typeof code === 'string' ? `${code}: ${message}` : message).slice(0, 300);
}
