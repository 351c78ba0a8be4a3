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
}

export interface DeliveryResult {
  /** The last HTTP status received, or null when no answer came. */
  status: number | null;
  attempts: number;
  /** The body of the last answer (inbound replies are TwiML). */
  body: string | null;
  error?: string;
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
  let result: DeliveryResult = { status: null, attempts: 0, body: null };
  for (let attempt = 0; attempt <= overrides.retryCount; attempt += 1) {
    const remaining = overrides.totalTimeMs - (Date.now() - started);
    if (attempt > 0 && remaining <= 0) break;
    const outcome = await attemptOnce(
      target,
      headers,
      body,
      Math.min(overrides.readTimeoutMs, remaining),
    );
    result = { ...outcome.result, attempts: attempt + 1 };
    if (outcome.reason === null || !overrides.retryOn.has(outcome.reason)) break;
    await sleep(20);
  }
  return result;
}

interface Attempt {
  result: Omit<DeliveryResult, 'attempts'>;
  /** Why the attempt failed in connection-override terms; null = success or not retryable. */
  reason: RetryReason | null;
}

// Keep-alive connections to the receiver, as Twilio's own callback senders reuse theirs. Plain
// node:http: fetch costs several times the CPU per request (web streams, abort plumbing), and
// the simulator shares the machine with the app in the benchmark. An idle connection is closed
// after 4 s, before a receiver's own keep-alive timeout (Node's default is 5 s) could close it
// under a request.
const KEEP_ALIVE = { keepAlive: true, maxSockets: 128, timeout: 4_000 };
const agents = { 'http:': new http.Agent(KEEP_ALIVE), 'https:': new https.Agent(KEEP_ALIVE) };

async function attemptOnce(
  target: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<Attempt> {
  try {
    const { status, text } = await post(target, headers, body, Math.max(1, timeoutMs));
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

/** One POST; rejects with ReadTimeout when no whole answer came within timeoutMs. */
function post(
  target: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
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
    const timer = setTimeout(
      () => request.destroy(new ReadTimeout('no answer in time')),
      timeoutMs,
    );
    function fail(error: Error): void {
      clearTimeout(timer);
      reject(error);
    }
    request.on('error', fail);
    request.end(body);
  });
}
