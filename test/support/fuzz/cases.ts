import * as fc from 'fast-check';

// What every generator of the fuzz suite (test/e2e/fuzz.e2e-spec.ts) produces: one request, a
// FuzzCase, that the suite sends through inject() or over a socket, with the fixed bugs (K1–K4,
// listed at the top of the suite) it would catch again. And the fixed values the generators and
// the suite's app share.

/** The app's PUBLIC_BASE_URL in the fuzz run: webhooks are signed against it. */
export const PUBLIC_URL = 'https://api.example.com';
/** The contact the suite seeds with an inbound message, and the Twilio number it wrote to. */
export const CONTACT_PHONE = '+14155550123';
export const TWILIO_NUMBER = 'whatsapp:+14155238886';
export const FORM = 'application/x-www-form-urlencoded';

export type Method = 'POST' | 'PATCH';
export type HeaderLine = [string, string];

export interface FuzzCase {
  label: string;
  method: Method;
  url: string;
  headers: Record<string, string>;
  /** Extra header lines (raw transport): sent before `headers` / after them. */
  rawBefore?: HeaderLine[];
  rawAfter?: HeaderLine[];
  payload?: string | Buffer;
  /** No Content-Length: the body comes as a stream (inject) or in chunks (raw). */
  chunked?: boolean;
  /** Over a socket, through Node's HTTP parser, instead of inject(). */
  raw: boolean;
  remoteAddress?: string;
  /** The fixed bugs (K1–K4, top of test/e2e/fuzz.e2e-spec.ts) this case would catch again: a label only. */
  known: string[];
}

export function clip(text: string, max = 240): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

/** What fast-check prints for a counterexample: readable, even for a 64 KB body. */
function describeCase(c: FuzzCase): string {
  const headers = Object.fromEntries(
    Object.entries(c.headers).map(([name, value]) => [name, clip(value, 120)]),
  );
  const payload =
    c.payload === undefined
      ? 'no body'
      : `${Buffer.byteLength(c.payload)} bytes ${JSON.stringify(clip(Buffer.isBuffer(c.payload) ? c.payload.toString('latin1') : c.payload, 400))}`;
  const extra = [...(c.rawBefore ?? []), ...(c.rawAfter ?? [])].map(
    ([name, value]) => `${name}: ${clip(value, 80)}`,
  );
  return (
    `[${c.label}] ${c.method} ${clip(c.url, 200)} via ${c.raw ? 'socket' : 'inject'}` +
    `${c.remoteAddress && !c.raw ? ` from ${c.remoteAddress}` : ''}${c.chunked ? ' chunked' : ''}` +
    `${c.known.length > 0 ? ` regresses: ${c.known.join(', ')}` : ''}\n` +
    `  headers ${JSON.stringify(headers)}${extra.length > 0 ? ` + ${JSON.stringify(extra)}` : ''}\n` +
    `  payload ${payload}`
  );
}

/** Node answers a header block over 16 KB with 431 itself (maxHeaderSize). */
const NODE_MAX_HEADER_BYTES = 16 * 1024;

function headerBlockBytes(c: Omit<FuzzCase, 'known'>): number {
  const lines = [...(c.rawBefore ?? []), ...Object.entries(c.headers), ...(c.rawAfter ?? [])];
  return lines.reduce((sum, [name, value]) => sum + name.length + value.length + 4, c.url.length);
}

/** Adds the fixed bugs the case regresses and a readable description for fast-check. */
export function finishCase(c: Omit<FuzzCase, 'known'>, known: (string | undefined)[]): FuzzCase {
  const all = new Set(known.filter((bug): bug is string => bug !== undefined));
  // Found (fixed): K1 — Node's parser refuses the header block (431) or a request line whose target
  // holds a space, a control or a non-ASCII character (400), answered by Fastify's default
  // clientError handler.
  if (c.raw && headerBlockBytes(c) > NODE_MAX_HEADER_BYTES - 256) all.add('K1');
  if (c.raw && /[^\x21-\x7e]/.test(c.url)) all.add('K1');
  const full: FuzzCase = { ...c, known: [...all].sort() };
  return Object.assign(full, { [fc.toStringMethod]: () => describeCase(full) });
}

export interface HeaderSpec {
  label: string;
  headers: Record<string, string>;
  rawBefore?: HeaderLine[];
  rawAfter?: HeaderLine[];
  /** Only meaningful over a socket (Node's parser decides). */
  rawOnly?: boolean;
  known?: string;
}
export const NO_HEADERS: HeaderSpec = { label: '', headers: {} };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
