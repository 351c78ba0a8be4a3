import * as http from 'node:http';
import * as https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  parseConnectionOverrides,
  withoutFragment,
  type RetryReason,
} from './connection-overrides';
import { encodeForm } from './form';
import { twilioSignature, type FormParams } from './twilio-signature';

export interface DeliveryRequest {
  /** The webhook URL as configured at "Twilio" (may carry a `#rc=…` fragment). */
  url: string;
  /** Where requests really go (SIMULATOR_DELIVER_TO): origin + the URL's path and query. */
  deliverTo: string;
  authToken: string;
  params: FormParams;
  idempotencyToken: string;
  /** Connections at once toward the receiver (SIM_CALLBACK_CONCURRENCY); default 1,024. */
  concurrency?: number;
}

export interface DeliveryResult {
  /** The last HTTP status received, or null when no answer came. */
  status: number | null;
  attempts: number;
  /** The body of the last answer (inbound replies are TwiML). */
  body: string | null;
  error?: string;
  /**
   * Why the last attempt did not succeed, in connection-override terms: `ct` (no connection in
   * time, or refused), `rt` (no whole answer in time after the request was written), `4xx`,
   * `5xx`; null when it was answered 2xx or 3xx.
   */
  failure: RetryReason | null;
}

/**
 * Posts a signed webhook as Twilio does, retrying as the URL's connection overrides say
 * (default: one retry, only on a failed connection). Every retry repeats the idempotency token.
 */
export async function deliverWebhook(request: DeliveryRequest): Promise<DeliveryResult> {
  const overrides = parseConnectionOverrides(request.url);
  const signedUrl = new URL(withoutFragment(request.url));
  const target = new URL(`${signedUrl.pathname}${signedUrl.search}`, request.deliverTo);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    'user-agent': 'TwilioProxy/1.1',
    'x-twilio-signature': twilioSignature(request.authToken, request.url, request.params),
    'i-twilio-idempotency-token': request.idempotencyToken,
  };
  if (signedUrl.protocol === 'https:' && target.protocol === 'http:') {
    // What a TLS-terminating proxy in front of the app would add.
    headers['x-forwarded-proto'] = 'https';
    headers['x-forwarded-host'] = signedUrl.host;
  }
  const body = encodeForm(request.params);
  const started = Date.now();
  let result: DeliveryResult = { status: null, attempts: 0, body: null, failure: null };
  setConcurrency(request.concurrency ?? DEFAULT_CONCURRENCY);
  for (let attempt = 0; attempt <= overrides.retryCount; attempt += 1) {
    const remaining = overrides.totalTimeMs - (Date.now() - started);
    if (attempt > 0 && remaining <= 0) break;
    const outcome = await attemptOnce(target, headers, body, {
      connectMs: overrides.connectTimeoutMs,
      readMs: Math.min(overrides.readTimeoutMs, remaining),
    });
    result = { ...outcome.result, attempts: attempt + 1, failure: outcome.reason };
    if (outcome.reason === null || !overrides.retryOn.has(outcome.reason)) break;
    await sleep(20);
  }
  return result;
}

interface Attempt {
  result: Omit<DeliveryResult, 'attempts' | 'failure'>;
  /** Why the attempt failed in connection-override terms; null = success or not retryable. */
  reason: RetryReason | null;
}

// Keep-alive connections to the receiver, as Twilio's own callback senders reuse theirs. Plain
// node:http: fetch costs several times the CPU per request (web streams, abort plumbing), and
// the simulator shares the machine with the app in the benchmark. An idle connection is closed
// after 4 s, before a receiver's own keep-alive timeout (Node's default is 5 s) could close it
// under a request. Twilio's senders are a fleet: they do not queue callbacks behind a handful of
// connections, so the cap is high (SIM_CALLBACK_CONCURRENCY, 1,024 by default) and only bounds
// the simulator's own sockets.
const DEFAULT_CONCURRENCY = 1_024;
const KEEP_ALIVE = { keepAlive: true, maxSockets: DEFAULT_CONCURRENCY, timeout: 4_000 };
const agents = { 'http:': new http.Agent(KEEP_ALIVE), 'https:': new https.Agent(KEEP_ALIVE) };

function setConcurrency(sockets: number): void {
  for (const agent of Object.values(agents)) agent.maxSockets = sockets;
}

async function attemptOnce(
  target: URL,
  headers: Record<string, string>,
  body: string,
  timeouts: Timeouts,
): Promise<Attempt> {
  try {
    const { status, text } = await post(target, headers, body, {
      connectMs: timeouts.connectMs,
      readMs: Math.max(1, timeouts.readMs),
    });
    const reason: RetryReason | null = status >= 500 ? '5xx' : status >= 400 ? '4xx' : null;
    return { result: { status, body: text }, reason };
  } catch (error) {
    const timedOut = error instanceof ReadTimeout;
    const code = (error as NodeJS.ErrnoException).code;
    const message = code ?? (error instanceof Error ? error.message : String(error));
    return { result: { status: null, body: null, error: message }, reason: timedOut ? 'rt' : 'ct' };
  }
}

class ReadTimeout extends Error {
  override readonly name = 'TimeoutError';
}

interface Timeouts {
  /** From the moment a new connection starts until it is made (Twilio's `ct`). */
  connectMs: number;
  /** From the moment the request is written until the whole answer is in (Twilio's `rt`). */
  readMs: number;
}

/**
 * One POST; rejects with ReadTimeout when no whole answer came within `readMs` of the request
 * being written, or with a connect timeout error when a new connection took over `connectMs`.
 * Time spent waiting for a free socket counts against neither: Twilio's timers run on the wire.
 */
function post(
  target: URL,
  headers: Record<string, string>,
  body: string,
  timeouts: Timeouts,
): Promise<{ status: number; text: string }> {
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const request = transport.request(
      target,
      {
        method: 'POST',
        agent: agents[target.protocol as keyof typeof agents],
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() });
        });
        response.on('error', fail);
      },
    );
    request.on('socket', (socket) => {
      if (!socket.connecting) return;
      const connectTimer = setTimeout(
        () =>
          request.destroy(Object.assign(new Error('no connection in time'), { code: 'ETIMEDOUT' })),
        timeouts.connectMs,
      );
      socket.once('connect', () => clearTimeout(connectTimer));
      socket.once('close', () => clearTimeout(connectTimer));
    });
    request.on('finish', () => {
      timer = setTimeout(
        () => request.destroy(new ReadTimeout('no answer in time')),
        timeouts.readMs,
      );
    });
    function fail(error: Error): void {
      clearTimeout(timer);
      reject(error);
    }
    request.on('error', fail);
    request.end(body);
  });
}
