import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import * as fc from 'fast-check';
import { parse as parseQueryString } from 'fast-querystring';
import { Client } from 'pg';
import {
  AUTH_BODY_LIMIT_BYTES,
  JSON_BODY_LIMIT_BYTES,
  WEBHOOK_BODY_LIMIT_BYTES,
} from '../../src/common/http/input-limits';
import {
  MAX_FORM_FIELDS,
  MAX_JSON_DEPTH,
  MAX_JSON_KEYS,
  MAX_QUERY_PARAMS,
} from '../../src/common/http/input-shape';
import { dropDatabase, ensureDatabase, runMigrations } from '../../src/database/database-setup';
import { JWT_AUDIENCE, JWT_ISSUER } from '../../src/modules/auth/auth.types';
import { twilioSignature, type FormParams } from '../../src/simulator/twilio-signature';
import {
  adminToken as logInAdmin,
  createUser,
  forgeJwt,
  TEST_PASSWORD,
  uniqueEmail,
  type TestUser,
} from '../factories/users.factory';
import { rawRequest } from '../support/raw-http';
import { SIM_ACCOUNT_SID, SIM_AUTH_TOKEN } from '../support/simulator';
import { signedWebhook } from '../support/signed-webhook';
import { startTestApp, type TestApp } from '../support/test-app';
import { databaseUrlFor } from '../support/test-env';

// Property-based fuzzing of every public route and every authenticated write route: ≥ 1,000
// generated requests each (malformed and wrong-typed JSON, forms, wrong content types, bodies
// just under and over the limits, wide and deep bodies, odd unicode and NUL bytes, injection
// strings, odd and repeated headers, odd path parameters). Every answer must be a non-5xx; a
// JSON error must be the contract's shape (docs/api.md §2) without a stack trace; a
// rejected request must write no row; and the process must still serve after each route. The
// file has a database of its own, so the row counts are not disturbed by other test files
// running at the same time.
//
// The seed is fixed, so a run is reproducible; FUZZ_SEED=<n> explores others (route i uses n + i)
// and FUZZ_RUNS=<n> changes the runs per route. A failure prints its seed and path: replay it
// with FUZZ_REPLAY=<seed>:<path> and -t '<route>' (the database then holds other rows, so a
// failure that depends on earlier requests may need the whole route's run).

const SEED = Number(process.env.FUZZ_SEED ?? 20_250_611);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1_000);
const REPLAY = /^(-?\d+):(\d+(?::\d+)*)$/.exec(process.env.FUZZ_REPLAY ?? '');

/**
 * Bugs this suite found, all fixed since; their generator cases stay in, tagged with the bug's
 * id, and now must pass like any other case:
 * - K1: a request Node's HTTP parser refuses (a NUL byte or a folded line in a header, a header
 *   block over 16 KB) got Fastify's default answer, outside the error shape (clientErrorHandler).
 * - K2: a path parameter the router cannot decode (`%zz`) or longer than 100 characters got
 *   Fastify's own answer, echoing the path (frameworkErrors).
 * - K3: a signed webhook with a NUL byte or an over-long field answered 503, so Twilio would
 *   retry it for ever (a value PostgreSQL cannot store is now 400).
 * - K4: POST /api/v1/users with an email holding a lone surrogate answered 500 (validator's
 *   isEmail threw); lone surrogates are now refused when the JSON is parsed.
 */

const LOGIN = '/api/v1/auth/login';
const TOKEN = '/api/v1/auth/token';
const INBOUND = '/api/v1/whatsapp/webhook';
const STATUS = '/api/v1/whatsapp/status';
const SEND = '/api/v1/whatsapp/send';
const USERS = '/api/v1/users';
const API_KEYS = '/api/v1/api-keys';
const CONTACTS = '/api/v1/contacts';
const FORM = 'application/x-www-form-urlencoded';

const DB_NAME = `wa_test_${Date.now()}_fuzz${randomBytes(3).toString('hex')}`;
const DB_URL = databaseUrlFor(DB_NAME);
const PUBLIC_URL = 'https://api.example.com';
const CONTACT_PHONE = '+14155550123';
const TWILIO_NUMBER = 'whatsapp:+14155238886';

// ---------------------------------------------------------------------------------------------
// Requests, answers and what every answer must satisfy

type Method = 'POST' | 'PATCH';
type HeaderLine = [string, string];

interface FuzzCase {
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
  /** The fixed bugs (K1–K4, top of the file) this case would catch again: a label only. */
  known: string[];
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

function clip(text: string, max = 240): string {
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
function finishCase(c: Omit<FuzzCase, 'known'>, known: (string | undefined)[]): FuzzCase {
  const all = new Set(known.filter((bug): bug is string => bug !== undefined));
  // Found (fixed): K1 — Node's parser refuses the header block (431) or a request line whose target
  // holds a space, a control or a non-ASCII character (400), answered by Fastify's default
  // clientError handler.
  if (c.raw && headerBlockBytes(c) > NODE_MAX_HEADER_BYTES - 256) all.add('K1');
  if (c.raw && /[^\x21-\x7e]/.test(c.url)) all.add('K1');
  const full: FuzzCase = { ...c, known: [...all].sort() };
  return Object.assign(full, { [fc.toStringMethod]: () => describeCase(full) });
}

// prettier-ignore
const ERROR_KEYS = new Set(['statusCode', 'error', 'code', 'message', 'details', 'requestId', 'errorId']);
const STACK_TRACE = /\n\s+at \S|\bat [^\s()]+ \([^)]*:\d+:\d+\)|node:internal|\/node_modules\//;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The contract's error shape (docs/api.md §2): {statusCode, error, code, message,
 * details?, requestId} (+ errorId on a 500).
 */
function errorShapeProblems(body: unknown, status: number): string[] {
  if (!isRecord(body)) return ['the error body is not an object'];
  const problems: string[] = [];
  const extra = Object.keys(body).filter((key) => !ERROR_KEYS.has(key));
  if (extra.length > 0) problems.push(`unexpected keys ${extra.join(', ')}`);
  if (body.statusCode !== status)
    problems.push(`statusCode ${String(body.statusCode)} ≠ ${status}`);
  if (typeof body.error !== 'string' || body.error === '') problems.push('no string error');
  if (typeof body.code !== 'string' || !/^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/.test(body.code)) {
    problems.push(`code ${JSON.stringify(body.code)} is not UPPER_SNAKE`);
  }
  if (typeof body.message !== 'string') problems.push('no string message');
  if (typeof body.requestId !== 'string' || body.requestId === '') problems.push('no requestId');
  if (body.details !== undefined) {
    if (body.code !== 'VALIDATION_FAILED') problems.push(`details on a ${String(body.code)}`);
    if (!Array.isArray(body.details)) problems.push('details is not an array');
    else {
      if (body.details.length > 20) problems.push(`${body.details.length} details (> 20)`);
      const bad = (body.details as unknown[]).find(
        (item) =>
          !isRecord(item) || typeof item.field !== 'string' || typeof item.message !== 'string',
      );
      if (bad !== undefined)
        problems.push(`a detail is not {field, message}: ${JSON.stringify(bad)}`);
    }
  }
  if (status === 500 && typeof body.errorId !== 'string') problems.push('a 500 without errorId');
  return problems;
}

function answerProblems(answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`answered ${answer.status}`);
  if (answer.status < 400) return problems;
  if (/[/+]json\b/i.test(answer.contentType)) {
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      problems.push('the JSON error body does not parse');
    }
    if (body !== undefined) problems.push(...errorShapeProblems(body, answer.status));
  }
  if (STACK_TRACE.test(answer.body) || answer.body.includes(process.cwd())) {
    problems.push('the answer carries a stack trace or a source path');
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Row counts (one query per answer)

// prettier-ignore
const TABLES = [
  'users', 'api_keys', 'whatsapp_messages', 'message_status_logs', 'contacts', 'idempotency_keys',
] as const;
type Counts = Record<(typeof TABLES)[number], number>;
const COUNT_SQL = `SELECT ${TABLES.map((table) => `(SELECT count(*) FROM ${table})::int AS ${table}`).join(', ')}`;

function rowChanges(before: Counts, after: Counts): string | null {
  const changed = TABLES.filter((table) => before[table] !== after[table]).map(
    (table) => `${table} ${before[table]} → ${after[table]}`,
  );
  return changed.length > 0 ? changed.join(', ') : null;
}

// ---------------------------------------------------------------------------------------------
// Building blocks of the generators

function pct(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(char)
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Incompressible text, reproducible from a seed (PostgreSQL cannot shrink it into an index). */
function noise(seed: number, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let x = seed | 0 || 0x9e3779b9;
  const chars: string[] = [];
  for (let i = 0; i < length; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    chars.push(alphabet[(x >>> 0) % 64]);
  }
  return chars.join('');
}

// prettier-ignore
const INJECTIONS = [
  "' OR 1=1--", "admin'--", '1; DROP TABLE users;--', '" OR ""="', "'; SELECT pg_sleep(10);--",
  '{"$gt":""}', '$where', '$ne', 'this.password.length > 0',
  '${7*7}', '#{7*7}', '{{7*7}}', '{{constructor.constructor("return process")().exit()}}',
  '<%= 7*7 %>', '${jndi:ldap://127.0.0.1/a}',
  '__proto__', 'constructor', 'constructor.prototype', 'prototype', 'toString',
  '../../../../etc/passwd', '..%2f..%2f..%2fetc%2fpasswd', '..\\..\\..\\windows\\win.ini',
  'a\r\nSet-Cookie: injected=1', '\r\n\r\nHTTP/1.1 200 OK\r\n', '%0d%0aSet-Cookie:%20x=1',
  '<script>alert(1)</script>',
  '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
  'whatsapp:+14155550100\u0000', '+1 (415) 555-0100', 'whatsapp:', '+', '+999999999999999999999',
];
// NUL, lone and reversed surrogates, RTL override, emoji with modifiers and joiners, BOM,
// zero-width, non-characters, case-mapping oddities, combining marks, non-ASCII digits, ANSI.
// prettier-ignore
const UNICODE = [
  '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83dy', '\udc00\ud800', '\u202eRTL\u202c',
  'مرحبا بالعالم', 'שלום', '👍🏽', '👨‍👩‍👧‍👦', '\ufeff', '\u200b\u200d', '\uffff', '\ufffe',
  '\u{10ffff}', 'İ', 'ǅ', 'ß', '\u0301', '٠١٢٣', '１２３', '\u0007\u001b[31m',
];
// prettier-ignore
const KEY_INJECTIONS = [
  '__proto__', 'constructor', 'prototype', '$where', '$gt', '$ne', 'hasOwnProperty', 'toString',
  '', ' ', 'a.b', 'a[0]', '\u0000', '\ud800',
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const oddUnit = fc.oneof(
  fc.constantFrom(...UNICODE),
  loneSurrogate,
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
);
const bigString = fc
  .record({
    seed: fc.nat(),
    length: fc.constantFrom(129, 256, 257, 1_601, 2_049, 2_800, 4_097, 8_000, 20_000, 65_000),
    random: fc.boolean(),
  })
  .map(({ seed, length, random }) => (random ? noise(seed, length) : 'x'.repeat(length)));
const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...INJECTIONS, ...UNICODE) },
  { weight: 3, arbitrary: fc.string({ unit: oddUnit, maxLength: 24 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...INJECTIONS), fc.string({ unit: oddUnit, maxLength: 4 }))
      .map(([a, b]) => a + b),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: bigString },
);
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -1,
    1.5,
    1e308,
    [],
    {},
    [null],
    { $gt: '' },
    { $ne: null },
    { $where: 'sleep(1000)' },
    ['a', 'b'],
    '',
    ' ',
  ),
  fc.jsonValue({ maxDepth: 3 }),
  nastyString,
  fc.integer(),
  fc.double(),
);
const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/);
const contentSid = hex32.map((hex) => `HX${hex}`);
/** What Node would hand over as a header value (latin1, no control characters but tab). */
const headerChar = fc
  .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(9))
  .map((c) => String.fromCharCode(c));
const oddHeaderValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: headerChar, minLength: 1, maxLength: 40 }),
  fc.constantFrom(
    "' OR 1=1--",
    '${jndi:ldap://x}',
    '{{7*7}}',
    '../../etc/passwd',
    '%0d%0aSet-Cookie: x=1',
    '\u00ff\u00fe',
    'a, b',
    ' ',
    'A'.repeat(10_240),
  ),
);
const remoteAddress: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.ipV4(),
  fc.ipV6(),
);

interface HeaderSpec {
  label: string;
  headers: Record<string, string>;
  rawBefore?: HeaderLine[];
  rawAfter?: HeaderLine[];
  /** Only meaningful over a socket (Node's parser decides). */
  rawOnly?: boolean;
  known?: string;
}
const NO_HEADERS: HeaderSpec = { label: '', headers: {} };

/** Odd, oversized and repeated headers any route may get. */
const miscHeaders: fc.Arbitrary<HeaderSpec> = fc.oneof(
  { weight: 14, arbitrary: fc.constant(NO_HEADERS) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<HeaderSpec>(
      { label: 'hdr:10kb-request-id', headers: { 'x-request-id': 'r'.repeat(10_240) } },
      { label: 'hdr:odd-request-id', headers: { 'x-request-id': "' OR 1=1--\u00ff" } },
      { label: 'hdr:10kb-custom', headers: { 'x-fuzz': noise(7, 10_240) } },
      {
        label: 'hdr:90-headers',
        headers: Object.fromEntries(Array.from({ length: 90 }, (_, i) => [`x-h${i}`, `${i}`])),
      },
      {
        label: 'hdr:xff',
        headers: { 'x-forwarded-for': "' OR 1=1--, 999.1.1.1, ::ffff:1.2.3.4, garbage" },
      },
      { label: 'hdr:accept-xml', headers: { accept: 'application/xml' } },
      { label: 'hdr:expect', headers: { expect: '100-continue' } },
      { label: 'hdr:encoding', headers: { 'content-encoding': 'gzip' } },
      {
        label: 'hdr:two-content-types(text first)',
        headers: {},
        rawBefore: [['content-type', 'text/plain']],
        rawOnly: true,
      },
      {
        label: 'hdr:two-content-types(text second)',
        headers: {},
        rawAfter: [['content-type', 'text/plain']],
        rawOnly: true,
      },
      {
        label: 'hdr:two-request-ids',
        headers: { 'x-request-id': 'a' },
        rawAfter: [['x-request-id', 'b']],
        rawOnly: true,
      },
      {
        label: 'hdr:crlf-injection',
        headers: {},
        rawAfter: [['x-a', 'b\r\nSet-Cookie: x=1']],
        rawOnly: true,
      },
      // Found (fixed): K1 — headers Node's parser refuses get Fastify's default clientError answer.
      {
        label: 'hdr:obs-fold',
        headers: {},
        rawAfter: [['x-a', 'b\r\n c']],
        rawOnly: true,
        known: 'K1',
      },
      {
        label: 'hdr:nul',
        headers: {},
        rawAfter: [['x-a', 'b\u0000c']],
        rawOnly: true,
        known: 'K1',
      },
      {
        label: 'hdr:20kb',
        headers: {},
        rawAfter: [['x-big', 'z'.repeat(20_480)]],
        rawOnly: true,
        known: 'K1',
      },
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom('x-request-id', 'user-agent', 'accept', 'x-forwarded-proto', 'x-custom'),
        oddHeaderValue,
      )
      .map(([name, value]): HeaderSpec => ({
        label: `hdr:odd-${name}`,
        headers: { [name]: value },
      })),
  },
);

const queryString: fc.Arbitrary<string> = fc.oneof(
  { weight: 14, arbitrary: fc.constant('') },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(MAX_QUERY_PARAMS, MAX_QUERY_PARAMS + 1, 500)
      .map((n) => `?${Array.from({ length: n }, (_, i) => `q${i}=1`).join('&')}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '?__proto__[admin]=1',
      '?constructor[prototype][admin]=1',
      '?%zz=%',
      '?a=%00',
      `?${'a'.repeat(5_000)}`,
      '?&&&&',
      '?=',
      '?a[]=1&a[]=2',
    ),
  },
  { weight: 1, arbitrary: nastyString.map((text) => `?q=${pct(text)}`) },
);

// ---------------------------------------------------------------------------------------------
// Bodies of the JSON routes

interface BodySpec {
  label: string;
  payload?: string | Buffer;
  /** undefined: application/json; null: no Content-Type header. */
  contentType?: string | null;
  chunked?: boolean;
}

interface PathSpec {
  label: string;
  path: string;
  known?: string;
}

/**
 * Found (fixed): K2 — Fastify's router answers a path parameter it cannot decode (FST_ERR_BAD_URL, 400)
 * or longer than maxParamLength, 100 (FST_ERR_MAX_PARAM_LENGTH, 414) itself, outside the
 * error shape.
 */
function paramKnown(param: string): string | undefined {
  try {
    return decodeURIComponent(param.split('?')[0]).length > 100 ? 'K2' : undefined;
  } catch {
    return 'K2';
  }
}

interface JsonRoute {
  name: string;
  method: Method;
  limit: number;
  keys: string[];
  /** A string field to pad when sizing a body. */
  padKey: string;
  /** Plausible, often valid, bodies. */
  valid: fc.Arbitrary<Record<string, unknown>>;
  paths: fc.Arbitrary<PathSpec>;
  auth: fc.Arbitrary<HeaderSpec>;
  /** Route-specific headers (the Idempotency-Key of a send). */
  extra?: fc.Arbitrary<HeaderSpec>;
  /** The fixed bug (K1–K4 above) a body of this route regresses, if any: a label. */
  knownFor?: (body: BodySpec) => string | undefined;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Found (fixed): K4 — validator's isEmail (class-validator @IsEmail) throws URIError on a string with a
 * lone surrogate, and POST /api/v1/users answers 500 instead of 400.
 */
function loneSurrogateEmail(body: BodySpec): string | undefined {
  const type = body.contentType === undefined ? 'application/json' : body.contentType;
  if (
    typeof body.payload !== 'string' ||
    !type?.toLowerCase().trim().startsWith('application/json')
  ) {
    return undefined;
  }
  if (Buffer.byteLength(body.payload) > JSON_BODY_LIMIT_BYTES) return undefined;
  try {
    const parsed: unknown = JSON.parse(body.payload.replace(/^\ufeff/, ''));
    return isRecord(parsed) && typeof parsed.email === 'string' && LONE_SURROGATE.test(parsed.email)
      ? 'K4'
      : undefined;
  } catch {
    return undefined;
  }
}

const json = (label: string, value: unknown): BodySpec => ({
  label: `json:${label}`,
  payload: JSON.stringify(value),
});

function withKey(
  target: Record<string, unknown>,
  key: string,
  value: unknown,
): Record<string, unknown> {
  // defineProperty, so "__proto__" becomes an own key that JSON.stringify writes out.
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return target;
}

function serialize(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    try {
      return String(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
}

function nearValid(route: JsonRoute): fc.Arbitrary<BodySpec> {
  return fc
    .record({
      body: route.valid,
      index: fc.nat(),
      value: fc.oneof(wrongValue, nastyString),
      how: fc.constantFrom('replace', 'replace', 'add-key', 'drop-key'),
    })
    .map(({ body, index, value, how }) => {
      const copy: Record<string, unknown> = { ...body };
      const names = Object.keys(copy);
      if (how === 'replace' && names.length > 0) copy[names[index % names.length]] = value;
      if (how === 'add-key') withKey(copy, KEY_INJECTIONS[index % KEY_INJECTIONS.length], value);
      if (how === 'drop-key' && names.length > 0) delete copy[names[index % names.length]];
      return json(`near-valid(${how})`, copy);
    });
}

function injectionText(route: JsonRoute): fc.Arbitrary<BodySpec> {
  const entries = (key: string) => [
    '"__proto__":{"admin":true,"role":"admin"}',
    '"constructor":{"prototype":{"role":"admin"}}',
    '"\\u005f_proto__":{"role":"admin"}',
    '"a":{"__proto__":{"x":1}}',
    `"${key}":{"$gt":""}`,
    `"${key}":{"$ne":null},"$where":"1==1"`,
    `"${key}":"' OR 1=1--"`,
    `"${key}":"\${process.exit(1)}"`,
    `"${key}":"{{constructor.constructor('return process')().exit()}}"`,
    `"${key}":"..\\/..\\/..\\/etc\\/passwd"`,
    `"${key}":"a\\r\\nSet-Cookie: x=1"`,
    `"${key}":"\\u0000"`,
    `"${key}":"a\\u0000b"`,
    `"${key}":"\\ud800"`,
    `"${key}":"\\udfff\\ud800"`,
    `"${key}":"\\u202e\\u0645"`,
  ];
  return fc
    .record({ body: route.valid, key: fc.constantFrom(...route.keys), index: fc.nat() })
    .map(({ body, key, index }) => {
      const list = entries(key);
      const rest = JSON.stringify(body).slice(1, -1);
      const entry = list[index % list.length];
      return {
        label: 'json:injection',
        payload: `{${entry}${rest === '' ? '' : `,${rest}`}}`,
      };
    });
}

function malformed(route: JsonRoute): fc.Arbitrary<BodySpec> {
  return fc
    .record({
      body: route.valid,
      index: fc.nat(),
      how: fc.constantFrom(
        'truncate',
        'trailing-comma',
        'single-quotes',
        'nan',
        'comment',
        'bom',
        'empty',
        'whitespace',
        'null',
        'twice',
        'unquoted-keys',
        'control-char',
        'huge-number',
        'duplicate-keys',
        'string',
        'array',
      ),
    })
    .map(({ body, index, how }): BodySpec => {
      const text = JSON.stringify(body);
      const key = route.keys[index % route.keys.length];
      const payloads: Record<typeof how, string> = {
        truncate: text.slice(0, index % Math.max(1, text.length)),
        'trailing-comma': `${text.slice(0, -1)},}`,
        'single-quotes': text.replace(/"/g, "'"),
        nan: `{"${key}":NaN}`,
        comment: `/* x */${text}`,
        bom: `\ufeff${text}`,
        empty: '',
        whitespace: ' \n\t ',
        null: 'null',
        twice: `${text}${text}`,
        'unquoted-keys': text.replace(/"(\w+)":/g, '$1:'),
        'control-char': `{"${key}":"a\u0001b\nc"}`,
        'huge-number': `{"${key}":1e999999,"x":123456789012345678901234567890}`,
        'duplicate-keys': `{"${key}":1,"${key}":"a",${text.slice(1)}`,
        string: JSON.stringify(text),
        array: `[${text}]`,
      };
      return { label: `json:malformed(${how})`, payload: payloads[how] };
    });
}

/** Just under, at and over the route's limit, padded with spaces or inside a string. */
function sized(route: JsonRoute): fc.Arbitrary<BodySpec> {
  return fc
    .record({
      body: route.valid,
      delta: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -2_000, max: 2_000 })),
      filler: fc.constantFrom('spaces', 'string', 'multibyte'),
      chunked: fc.boolean(),
    })
    .map(({ body, delta, filler, chunked }): BodySpec => {
      const target = route.limit + delta;
      let payload: string;
      if (filler === 'spaces') {
        const text = JSON.stringify(body);
        payload = text + ' '.repeat(Math.max(0, target - Buffer.byteLength(text)));
      } else {
        const empty = JSON.stringify({ ...body, [route.padKey]: '' });
        const room = Math.max(0, target - Buffer.byteLength(empty));
        const pad =
          filler === 'string'
            ? 'x'.repeat(room)
            : '€'.repeat(Math.floor(room / 3)) + 'x'.repeat(room % 3);
        payload = JSON.stringify({ ...body, [route.padKey]: pad });
      }
      const bytes = Buffer.byteLength(payload);
      const side = bytes > route.limit ? 'over' : 'under';
      return { label: `size:${side}(${bytes} B, ${filler})`, payload, chunked };
    });
}

function wide(route: JsonRoute): fc.Arbitrary<BodySpec> {
  return fc
    .record({
      count: fc.oneof(
        fc.constantFrom(MAX_JSON_KEYS - 1, MAX_JSON_KEYS, MAX_JSON_KEYS + 1, 5_000),
        fc.integer({ min: 1, max: 6_000 }),
      ),
      style: fc.constantFrom('flat', 'in-field', 'array', 'colons-in-strings', 'repeated-key'),
      key: fc.constantFrom(...route.keys),
    })
    .map(({ count, style, key }): BodySpec => {
      const keys = Array.from({ length: count }, (_, i) => `"k${i}":0`).join(',');
      const payloads: Record<typeof style, string> = {
        flat: `{${keys}}`,
        'in-field': `{"${key}":{${keys}}}`,
        array: `{"${key}":[${Array.from({ length: count }, () => '0').join(',')}]}`,
        'colons-in-strings': `{"${key}":"${':'.repeat(count)}"}`,
        'repeated-key': `{${Array.from({ length: count }, (_, i) => `"${key}":"${i}"`).join(',')}}`,
      };
      return { label: `wide:${style}(${count})`, payload: payloads[style] };
    });
}

/** Nesting to 10,000 levels, at the top or in a field; unclosed; or brackets inside strings. */
function deep(keys: string[]): fc.Arbitrary<BodySpec> {
  return fc
    .record({
      depth: fc.oneof(
        fc.constantFrom(MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, 100, 10_000),
        fc.integer({ min: 1, max: 10_000 }),
      ),
      shape: fc.constantFrom(
        'arrays',
        'objects',
        'mixed',
        'unclosed',
        'in-string',
        'escaped-quote',
        'close-first',
      ),
      top: fc.boolean(),
      key: fc.constantFrom(...keys),
    })
    .map(({ depth, shape, top, key }): BodySpec => {
      const nests: Record<typeof shape, string> = {
        arrays: `${'['.repeat(depth)}1${']'.repeat(depth)}`,
        objects: `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
        mixed: `${'[{"a":'.repeat(Math.ceil(depth / 2))}1${'}]'.repeat(Math.ceil(depth / 2))}`,
        unclosed: '['.repeat(depth),
        'in-string': JSON.stringify('['.repeat(depth)),
        'escaped-quote': `"\\"${'{'.repeat(depth)}"`,
        'close-first': `${']'.repeat(depth)}${'['.repeat(depth)}`,
      };
      const nest = nests[shape];
      return {
        label: `deep:${shape}(${depth}${top ? ', top' : ''})`,
        payload: top ? nest : `{"${key}":${nest}}`,
      };
    });
}

function formPairs(keys: string[]): fc.Arbitrary<HeaderLine[]> {
  const name = fc.oneof(
    fc.constantFrom(...keys),
    fc.constantFrom(
      '__proto__',
      'constructor[prototype][role]',
      'a[]',
      `${keys[0]}[$gt]`,
      `${keys[0]}[]`,
    ),
    fc.string({ maxLength: 8 }),
  );
  const value = fc.oneof(
    nastyString,
    fc.constantFrom('true', 'false', '1', 'admin', 'viewer', '+14155550100', `HX${'0'.repeat(32)}`),
  );
  return fc.array(fc.tuple(name, value), { maxLength: 12 });
}

function encodePairs(pairs: HeaderLine[]): string {
  return new URLSearchParams(pairs).toString();
}

function formBody(route: JsonRoute): fc.Arbitrary<BodySpec> {
  return fc
    .record({
      pairs: fc.oneof(
        formPairs(route.keys),
        route.valid.map((body) =>
          Object.entries(body).map(([k, v]): HeaderLine => [
            k,
            typeof v === 'string' ? v : JSON.stringify(v),
          ]),
        ),
      ),
      repeat: fc.boolean(),
      pad: fc.constantFrom(0, 0, 0, route.limit - 10, route.limit + 10),
      fields: fc.constantFrom(0, 0, 0, MAX_FORM_FIELDS, MAX_FORM_FIELDS + 1),
    })
    .map(({ pairs, repeat, pad, fields }): BodySpec => {
      const all = repeat ? [...pairs, ...pairs] : [...pairs];
      for (let i = all.length; i < fields; i += 1) all.push([`f${i}`, '1']);
      let payload = encodePairs(all);
      if (pad > payload.length)
        payload += `${payload ? '&' : ''}pad=${'p'.repeat(Math.max(0, pad - payload.length - 5))}`;
      return {
        label: `form${repeat ? ':repeated' : ''}${pad ? ':huge' : ''}${fields ? `:${all.length}-fields` : ''}`,
        payload,
        contentType: FORM,
      };
    });
}

const MULTIPART =
  '------fuzz\r\nContent-Disposition: form-data; name="email"\r\n\r\nadmin@example.com\r\n------fuzz--\r\n';
/** Wrong, missing, garbage and borderline content types (null: no header at all). */
// prettier-ignore
const CONTENT_TYPES: (string | null)[] = [
  'text/plain', 'application/xml', 'text/xml', 'multipart/form-data; boundary=----fuzz',
  'application/octet-stream', null, '', ' ', 'garbage', '*/*', 'application/json, text/plain',
  'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/json;;;',
  'APPLICATION/JSON', 'application/jsonp', 'application/vnd.api+json', 'application/problem+json',
  FORM, 'text/json', 'application/json\u00ff', 'application / json',
];

function wrongContentType(route: JsonRoute): fc.Arbitrary<BodySpec> {
  return fc
    .record({
      contentType: fc.constantFrom(...CONTENT_TYPES),
      payload: fc.oneof(
        route.valid.map((body) => JSON.stringify(body)),
        fc.constantFrom('<?xml version="1.0"?><a>1</a>', MULTIPART, 'email=a', ''),
        nastyString,
      ),
    })
    .map(({ contentType, payload }) => ({
      label: `content-type:${JSON.stringify(contentType)}`,
      payload,
      contentType,
    }));
}

// A lone 0xff, an overlong NUL, a CESU-8 surrogate, a code point past U+10FFFF, NUL, a BOM.
// prettier-ignore
const BAD_BYTES = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x00], [0xfe, 0xff]];

function badBytes(keys: string[], contentType?: string): fc.Arbitrary<BodySpec> {
  return fc
    .record({
      key: fc.constantFrom(...keys),
      bytes: fc.oneof(
        fc.constantFrom(...BAD_BYTES).map((b) => Uint8Array.from(b)),
        fc.uint8Array({ minLength: 1, maxLength: 24 }),
      ),
    })
    .map(({ key, bytes }) => ({
      label: 'bytes:invalid-utf8',
      payload:
        contentType === FORM
          ? Buffer.concat([Buffer.from(`${key}=`), Buffer.from(bytes), Buffer.from('&x=1')])
          : Buffer.concat([Buffer.from(`{"${key}":"`), Buffer.from(bytes), Buffer.from('"}')]),
      ...(contentType ? { contentType } : {}),
    }));
}

const ANYTHING = {
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
  maxDepth: 4,
};

function jsonBodies(route: JsonRoute): fc.Arbitrary<BodySpec> {
  const wrongTypes = fc
    .record(
      Object.fromEntries(route.keys.map((key) => [key, wrongValue])) as Record<
        string,
        fc.Arbitrary<unknown>
      >,
      { requiredKeys: [] },
    )
    .map((body) => json('wrong-types', body));
  return fc.oneof(
    { weight: 3, arbitrary: route.valid.map((body) => json('valid-random', body)) },
    { weight: 5, arbitrary: nearValid(route) },
    { weight: 3, arbitrary: wrongTypes },
    { weight: 2, arbitrary: fc.jsonValue().map((value) => json('value', value)) },
    {
      weight: 2,
      arbitrary: fc
        .anything(ANYTHING)
        .map((value): BodySpec => ({ label: 'json:anything', payload: serialize(value) })),
    },
    { weight: 2, arbitrary: injectionText(route) },
    { weight: 2, arbitrary: malformed(route) },
    { weight: 2, arbitrary: sized(route) },
    { weight: 1, arbitrary: wide(route) },
    { weight: 2, arbitrary: deep(route.keys) },
    { weight: 2, arbitrary: formBody(route) },
    { weight: 2, arbitrary: wrongContentType(route) },
    { weight: 1, arbitrary: badBytes(route.keys) },
  );
}

function jsonCases(route: JsonRoute): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      body: jsonBodies(route),
      path: route.paths,
      auth: route.auth,
      extra: route.extra ?? fc.constant(NO_HEADERS),
      misc: miscHeaders,
      query: queryString,
      ip: remoteAddress,
      raw: fc.oneof(
        { weight: 9, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
    })
    .map(({ body, path, auth, extra, misc, query, ip, raw }) => {
      const specs = [auth, extra, misc];
      const headers: Record<string, string> = {};
      if (body.contentType !== null)
        headers['content-type'] = body.contentType ?? 'application/json';
      for (const spec of specs) Object.assign(headers, spec.headers);
      const label = [
        body.label,
        path.label,
        ...specs.map((spec) => spec.label),
        query ? 'query' : '',
      ]
        .filter((part) => part !== '')
        .join(' ');
      return finishCase(
        {
          label,
          method: route.method,
          url: path.path + query,
          headers,
          rawBefore: specs.flatMap((spec) => spec.rawBefore ?? []),
          rawAfter: specs.flatMap((spec) => spec.rawAfter ?? []),
          ...(body.payload === undefined ? {} : { payload: body.payload }),
          ...(body.chunked ? { chunked: true } : {}),
          raw: raw || specs.some((spec) => spec.rawOnly === true),
          ...(ip === undefined ? {} : { remoteAddress: ip }),
        },
        [path.known, route.knownFor?.(body), ...specs.map((spec) => spec.known)],
      );
    });
}

// ---------------------------------------------------------------------------------------------
// Webhook requests (Twilio's forms, signed or not)

type SignMode = 'valid' | 'none' | 'garbage' | 'wrong-token' | 'other-body' | 'duplicated';

interface WebhookBody {
  label: string;
  pairs?: HeaderLine[];
  payload?: string | Buffer;
  contentType?: string | null;
  chunked?: boolean;
}

const sidValue = (prefix: string, seeded: string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: hex32.map((hex) => `${prefix}${hex}`) },
    { weight: seeded.length > 0 ? 2 : 0, arbitrary: fc.constantFrom(...seeded, 'unused') },
    { weight: 2, arbitrary: nastyString },
  );
const addressValue = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .integer({ min: 0, max: 9_999 })
      .map((n) => `whatsapp:+1415555${String(n).padStart(4, '0')}`),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      `whatsapp:${CONTACT_PHONE}`,
      TWILIO_NUMBER,
      '+14155550100',
      'whatsapp:',
      'whatsapp:+',
      '',
    ),
  },
  { weight: 2, arbitrary: nastyString },
);
const statusValue = fc.oneof(
  fc.constantFrom(
    'queued',
    'sending',
    'sent',
    'delivered',
    'read',
    'failed',
    'undelivered',
    'accepted',
    'scheduled',
    'canceled',
    'received',
    'DELIVERED',
    '',
  ),
  nastyString,
);
const errorCodeValue = fc.oneof(
  fc.constantFrom('63016', '0', '-1', '2147483647', '2147483648', '1e3', '63016.5', 'NaN', ''),
  nastyString,
);

function twilioFields(
  kind: 'inbound' | 'status',
  seededSids: string[],
): fc.Arbitrary<HeaderLine[]> {
  const text = fc.oneof(nastyString, fc.constantFrom('STOP', 'start', ' unsubscribe ', 'Hello'));
  const core =
    kind === 'inbound'
      ? fc.record({ MessageSid: sidValue('SM', seededSids), From: addressValue, To: addressValue })
      : fc.record({ MessageSid: sidValue('SM', seededSids), MessageStatus: statusValue });
  const optional = fc.record(
    {
      Body: text,
      NumMedia: fc.oneof(
        fc.constantFrom('0', '1', '10', '11', '-1', '1e9', 'NaN', '0x10'),
        nastyString,
      ),
      MediaUrl0: fc.oneof(
        fc.constantFrom('https://api.twilio.com/m/1', 'javascript:alert(1)'),
        nastyString,
      ),
      MediaContentType0: fc.oneof(fc.constant('image/jpeg'), nastyString),
      ProfileName: text,
      WaId: fc.oneof(fc.constant('14155550123'), nastyString),
      ButtonPayload: nastyString,
      MessageType: fc.oneof(fc.constantFrom('text', 'image', 'button'), nastyString),
      ErrorCode: errorCodeValue,
      ErrorMessage: text,
      SmsSid: sidValue('SM', seededSids),
      SmsStatus: statusValue,
      AccountSid: fc.oneof(fc.constant(`AC${'1'.repeat(32)}`), nastyString),
      ...(kind === 'status' ? { To: addressValue, From: addressValue } : {}),
    },
    { requiredKeys: [] },
  );
  const extraName = fc.oneof(
    fc.constantFrom(
      '__proto__',
      'constructor',
      'hasOwnProperty',
      'toString',
      'MediaUrl9',
      'MediaUrl10',
      '',
    ),
    fc.string({ maxLength: 10 }),
    nastyString,
  );
  return fc
    .record({
      core,
      optional,
      extra: fc.array(fc.tuple(extraName, nastyString), { maxLength: 4 }),
      drop: fc.option(fc.nat(), { freq: 8 }),
      repeat: fc.option(fc.nat(), { freq: 5 }),
      shuffle: fc.nat(),
    })
    .map(({ core, optional, extra, drop, repeat, shuffle }) => {
      const pairs: HeaderLine[] = [
        ...Object.entries(core),
        ...Object.entries(optional).filter(
          (entry): entry is HeaderLine => typeof entry[1] === 'string',
        ),
        ...extra,
      ];
      if (drop !== null) pairs.splice(drop % pairs.length, 1);
      if (repeat !== null && pairs.length > 0) {
        const [name] = pairs[repeat % pairs.length];
        pairs.push([name, `${name}-again`], [name, pairs[repeat % pairs.length][1]]);
      }
      // Field order must not matter to the signature or the handler.
      const cut = pairs.length > 0 ? shuffle % pairs.length : 0;
      return [...pairs.slice(cut), ...pairs.slice(0, cut)];
    });
}

function webhookBodies(
  kind: 'inbound' | 'status',
  seededSids: string[],
): fc.Arbitrary<WebhookBody> {
  const fields = twilioFields(kind, seededSids);
  const keys = ['MessageSid', 'From', 'To', 'Body', 'MessageStatus'];
  return fc.oneof(
    {
      weight: 10,
      arbitrary: fields.map((pairs): WebhookBody => ({ label: 'form:twilio', pairs })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          pairs: fields,
          delta: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -3_000, max: 3_000 })),
          chunked: fc.boolean(),
        })
        .map(({ pairs, delta, chunked }): WebhookBody => {
          const base = encodePairs(pairs);
          const room = WEBHOOK_BODY_LIMIT_BYTES + delta - base.length - '&Pad='.length;
          const padded: HeaderLine[] = [...pairs, ['Pad', 'p'.repeat(Math.max(0, room))]];
          const bytes = encodePairs(padded).length;
          return {
            label: `size:${bytes > WEBHOOK_BODY_LIMIT_BYTES ? 'over' : 'under'}(${bytes} B)`,
            pairs: padded,
            chunked,
          };
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          pairs: fields,
          count: fc.constantFrom(MAX_FORM_FIELDS - 1, MAX_FORM_FIELDS, MAX_FORM_FIELDS + 1, 1_000),
        })
        .map(({ pairs, count }): WebhookBody => {
          const all = [...pairs];
          for (let i = 0; all.length < count; i += 1) all.push([`F${i}`, '1']);
          return { label: `form:${count}-fields`, pairs: all };
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .record({
          name: fc.constantFrom('MessageSid', 'MediaUrl0', 'Body'),
          count: fc.integer({ min: 2, max: 99 }),
        })
        .chain(({ name, count }) =>
          fields.map((pairs): WebhookBody => ({
            label: `form:${name}×${count}`,
            pairs: [
              ...pairs,
              ...Array.from({ length: count }, (_, i): HeaderLine => [name, `v${i}`]),
            ],
          })),
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          contentType: fc.constantFrom(
            ...CONTENT_TYPES.filter((type) => type !== FORM),
            'application/json',
            `${FORM}; charset=utf-16`,
            `${FORM.toUpperCase()}`,
            `${FORM}, text/plain`,
          ),
          pairs: fields,
          as: fc.constantFrom('form', 'json', 'xml', 'multipart'),
        })
        .map(({ contentType, pairs, as }): WebhookBody => {
          const payloads: Record<typeof as, string> = {
            form: encodePairs(pairs),
            json: JSON.stringify(Object.fromEntries(pairs)),
            xml: '<?xml version="1.0"?><Message><Sid>SM1</Sid></Message>',
            multipart: MULTIPART,
          };
          return {
            label: `content-type:${JSON.stringify(contentType)}(${as})`,
            payload: payloads[as],
            contentType,
          };
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          deep(keys),
          fc.jsonValue().map((value) => json('value', value)),
        )
        .chain((body) =>
          fc
            .constantFrom<string | null>(FORM, 'application/json')
            .map((contentType) => ({ ...body, contentType })),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          'MessageSid=%ED%A0%80&From=%zz&To=%',
          'MessageSid=SM1&Body=%00%00&From=whatsapp%3A%2B1&To=x',
          'MessageSid=SM1&MessageStatus=%C0%80',
          '&&&&=&=&',
          'MessageSid',
          '=',
          '%',
          'a=1;b=2',
          'MessageSid=SM1&MessageSid[]=SM2&MessageStatus[$gt]=',
        )
        .map((payload): WebhookBody => ({ label: 'form:raw-encoding', payload })),
    },
    { weight: 1, arbitrary: badBytes(keys, FORM) },
  );
}

const signatureHeader = fc.oneof(
  { weight: 12, arbitrary: fc.constant<SignMode>('valid') },
  {
    weight: 4,
    arbitrary: fc.constantFrom<SignMode>(
      'none',
      'garbage',
      'wrong-token',
      'other-body',
      'duplicated',
    ),
  },
);
const idempotencyToken: fc.Arbitrary<HeaderSpec> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(NO_HEADERS) },
  {
    weight: 3,
    arbitrary: fc
      .uuid()
      .map((token) => ({ label: '', headers: { 'i-twilio-idempotency-token': token } })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('fuzz-token-1', 'fuzz-token-2').map((token) => ({
      label: 'token:reused',
      headers: { 'i-twilio-idempotency-token': token },
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        oddHeaderValue,
        fc.nat().map((seed) => noise(seed, 10_240)),
      )
      .map((token) => ({
        label: `token:odd(${token.length})`,
        headers: { 'i-twilio-idempotency-token': token },
      })),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.uuid(), fc.uuid()).map(([a, b]) => ({
      label: 'token:duplicated',
      headers: { 'i-twilio-idempotency-token': a },
      rawAfter: [['i-twilio-idempotency-token', b]] as HeaderLine[],
      rawOnly: true,
    })),
  },
);

function webhookQuery(kind: 'inbound' | 'status', seededIds: string[]): fc.Arbitrary<string> {
  if (kind === 'inbound') return queryString;
  return fc
    .oneof(
      { weight: 6, arbitrary: queryString },
      {
        weight: 4,
        arbitrary: fc.oneof(
          fc.constantFrom(...seededIds),
          fc.uuid(),
          fc.uuid().map((id) => id.toUpperCase()),
          nastyString.map(pct),
          fc.constantFrom('x'.repeat(1_000), '%00', '..%2f', ''),
        ),
      },
    )
    .map((value) => (value.startsWith('?') || value === '' ? value : `?mid=${value}`));
}

// prettier-ignore
const INDEXED_FIELDS = ['MessageSid', 'SmsMessageSid', 'SmsSid', 'From', 'To', 'MessageStatus', 'SmsStatus'];

/**
 * Found (fixed): K3 — a signed webhook that reaches the database with a NUL byte in any field name or
 * value (text: SQLSTATE 22021; the raw payload, jsonb: 22P05), or with a value PostgreSQL cannot
 * put in a btree index (an incompressible MessageSid, From, To or MessageStatus, or
 * I-Twilio-Idempotency-Token, of more than ~2.7 KB: 54000), answers 503 (webhooks.service.ts
 * persist() turns every error into 503), so Twilio would retry it forever; a 4xx is due.
 */
function webhookKnown(
  fields: FormParams,
  headers: Record<string, string>,
  bytes: number,
): string | undefined {
  const type = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== FORM || bytes > WEBHOOK_BODY_LIMIT_BYTES) return undefined;
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  const nul = Object.entries(fields).some(
    ([name, value]) =>
      name.includes('\u0000') || [value].flat().some((item) => item.includes('\u0000')),
  );
  const unindexable =
    INDEXED_FIELDS.some((name) => (first(fields[name])?.length ?? 0) > 2_000) ||
    (headers['i-twilio-idempotency-token']?.length ?? 0) > 2_000;
  return nul || unindexable ? 'K3' : undefined;
}

function webhookCases(
  path: string,
  kind: 'inbound' | 'status',
  seeded: { ids: string[]; sids: string[] },
): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      body: webhookBodies(kind, seeded.sids),
      sign: signatureHeader,
      token: idempotencyToken,
      misc: miscHeaders,
      query: webhookQuery(kind, seeded.ids),
      pathVariant: fc.constantFrom(
        path,
        path,
        path,
        path.replace(/(\w+)$/, (word) => `%${word.charCodeAt(0).toString(16)}${word.slice(1)}`),
      ),
      ip: remoteAddress,
      raw: fc.oneof(
        { weight: 9, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
    })
    .map(({ body, sign, token, misc, query, pathVariant, ip, raw }) => {
      const url = pathVariant + query;
      const payload = body.pairs ? encodePairs(body.pairs) : body.payload;
      const headers: Record<string, string> = {};
      const contentType = body.contentType === undefined ? FORM : body.contentType;
      if (contentType !== null) headers['content-type'] = contentType;
      const text = payload === undefined ? '' : payload.toString();
      // Signed over what the app parses: PUBLIC_BASE_URL + the path and query as sent.
      const fields = parseQueryString(text) as FormParams;
      const valid = twilioSignature(SIM_AUTH_TOKEN, `${PUBLIC_URL}${url}`, fields);
      const rawAfter: HeaderLine[] = [];
      if (sign === 'valid') headers['x-twilio-signature'] = valid;
      if (sign === 'garbage') headers['x-twilio-signature'] = 'Z2FyYmFnZQ==';
      if (sign === 'wrong-token') {
        headers['x-twilio-signature'] = twilioSignature(
          'not-the-token',
          `${PUBLIC_URL}${url}`,
          fields,
        );
      }
      if (sign === 'other-body') {
        headers['x-twilio-signature'] = twilioSignature(SIM_AUTH_TOKEN, `${PUBLIC_URL}${url}`, {});
      }
      if (sign === 'duplicated') {
        headers['x-twilio-signature'] = valid;
        rawAfter.push(['x-twilio-signature', valid]);
      }
      Object.assign(headers, token.headers, misc.headers);
      const specs = [token, misc];
      const label = [
        body.label,
        sign === 'valid' ? 'signed' : `signature:${sign}`,
        ...specs.map((spec) => spec.label),
        query ? 'query' : '',
        pathVariant === path ? '' : 'encoded-path',
      ]
        .filter((part) => part !== '')
        .join(' ');
      return finishCase(
        {
          label,
          method: 'POST',
          url,
          headers,
          rawBefore: specs.flatMap((spec) => spec.rawBefore ?? []),
          rawAfter: [...rawAfter, ...specs.flatMap((spec) => spec.rawAfter ?? [])],
          ...(payload === undefined ? {} : { payload }),
          ...(body.chunked ? { chunked: true } : {}),
          raw: raw || sign === 'duplicated' || specs.some((spec) => spec.rawOnly === true),
          ...(ip === undefined ? {} : { remoteAddress: ip }),
        },
        [
          ...specs.map((spec) => spec.known),
          sign === 'valid' && typeof payload !== 'undefined'
            ? webhookKnown(fields, headers, Buffer.byteLength(payload))
            : undefined,
        ],
      );
    });
}

// ---------------------------------------------------------------------------------------------
// The suite

interface RouteStats {
  requests: number;
  statuses: Map<number, number>;
  slowest: { ms: number; status: number; label: string } | null;
}

describe('fuzz: every public and write route stays well-behaved on hostile input', () => {
  let test: TestApp;
  let sender: TestUser;
  let pg: Client;
  let port: number;
  let adminToken: string;
  let viewerToken: string;
  let jwtSecret: string;
  let adminId: string;
  let victimIds: string[];
  let canaryEmail: string;
  let apiKey: string;
  const seeded = { ids: [] as string[], sids: [] as string[] };
  const stats = new Map<string, RouteStats>();
  let total = 0;
  let ipCounter = 0;

  beforeAll(async () => {
    process.stdout.write(`fuzz: seed ${SEED}, ${RUNS} runs per route (FUZZ_SEED, FUZZ_RUNS)\n`);
    await ensureDatabase(DB_URL);
    await runMigrations({ url: DB_URL, poolSize: 2 });
    pg = new Client({ connectionString: DB_URL });
    await pg.connect();
    // The app alone, no Twilio simulator: in the api role nothing calls Twilio (no worker), and
    // TWILIO_API_BASE_URL points at a closed port in case something did.
    test = await startTestApp({
      DATABASE_URL: DB_URL,
      // No worker, sweeper or reconciler: nothing writes rows behind the answers' backs.
      ROLE: 'api',
      TWILIO_ACCOUNT_SID: SIM_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: SIM_AUTH_TOKEN,
      TWILIO_API_BASE_URL: 'http://127.0.0.1:9',
      PUBLIC_BASE_URL: PUBLIC_URL,
      // Failed logins per client stay at the default 10 (most fuzz logins come from random
      // addresses, so the password check is reached); per email high enough that the checks
      // below can still log in.
      LOGIN_LIMIT_PER_EMAIL: '50',
      SEND_RATE_LIMIT: '100000',
      // 127.0.0.1 soon counts as flooding (one HMAC, then 429); random addresses get the full check.
      WEBHOOK_UNSIGNED_LIMIT: '20',
    });
    await test.app.listen({ port: 0, host: '127.0.0.1' });
    const address = test.app.getHttpAdapter().getInstance().server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
    jwtSecret = test.config.jwt.secret;
    adminToken = await logInAdmin(test.app);
    sender = await createUser(test.app, 'sender');
    const [admin] = await pg
      .query<{ id: string }>(`SELECT id FROM users WHERE email = 'admin@example.com'`)
      .then((result) => result.rows);
    adminId = admin.id;
    viewerToken = (await createUser(test.app, 'viewer')).token;
    victimIds = [];
    for (let i = 0; i < 3; i += 1)
      victimIds.push((await createUser(test.app, 'viewer', 'victim')).id);
    canaryEmail = (await createUser(test.app, 'viewer', 'canary')).email;
    const key = await test.app.inject({
      method: 'POST',
      url: API_KEYS,
      headers: { authorization: `Bearer ${adminToken}` },
      payload: { userId: sender.id },
    });
    apiKey = key.json<{ key: string }>().key;
    const contact = await signedPost(
      INBOUND,
      {
        MessageSid: `SM${randomBytes(16).toString('hex')}`,
        From: `whatsapp:${CONTACT_PHONE}`,
        To: TWILIO_NUMBER,
        Body: 'hello',
      },
      freshIp(),
    );
    expect(contact.statusCode).toBe(200);
    for (const status of ['accepted', 'sent']) {
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const { rows } = await pg.query<{ id: string }>(
        `INSERT INTO whatsapp_messages (direction, twilio_sid, "to", body, status, attempts, max_attempts, created_by)
         VALUES ('outbound', $1, 'whatsapp:+14155550100', 'x', $2, 1, 8, $3) RETURNING id`,
        [sid, status, sender.id],
      );
      seeded.ids.push(rows[0].id);
      seeded.sids.push(sid);
    }
  }, 60_000);

  afterAll(async () => {
    for (const [route, s] of stats) {
      const statuses = [...s.statuses.entries()]
        .sort(([a], [b]) => a - b)
        .map(([status, count]) => `${status}×${count}`)
        .join(' ');
      const slowest = s.slowest
        ? `${s.slowest.ms.toFixed(1)} ms (${s.slowest.status} ${clip(s.slowest.label, 90)})`
        : 'none';
      process.stdout.write(
        `fuzz: ${route}: ${s.requests} requests [${statuses}]; slowest rejection ${slowest}\n`,
      );
    }
    process.stdout.write(`fuzz: ${total} requests in all\n`);
    await pg?.end();
    await test?.close();
    await dropDatabase(DB_URL);
  }, 60_000);

  /** A webhook signed as Twilio signs it: PUBLIC_BASE_URL + the path, every form field. */
  function signedPost(path: string, params: FormParams, ip: string) {
    return signedWebhook(test, path, params, { ip });
  }

  function statsFor(route: string): RouteStats {
    let s = stats.get(route);
    if (!s) {
      s = { requests: 0, statuses: new Map(), slowest: null };
      stats.set(route, s);
    }
    return s;
  }

  async function countRows(): Promise<Counts> {
    return (await pg.query<Counts>(COUNT_SQL)).rows[0];
  }

  async function send(c: FuzzCase): Promise<Answer> {
    if (c.raw) {
      const payload = c.payload === undefined ? Buffer.alloc(0) : Buffer.from(c.payload);
      const lines = [`${c.method} ${c.url} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close'];
      const header = ([name, value]: HeaderLine) => lines.push(`${name}: ${value}`);
      (c.rawBefore ?? []).forEach(header);
      Object.entries(c.headers).forEach(header);
      (c.rawAfter ?? []).forEach(header);
      if (c.chunked) lines.push('transfer-encoding: chunked');
      else lines.push(`content-length: ${payload.length}`);
      const body = !c.chunked
        ? payload
        : Buffer.concat([
            ...(payload.length > 0
              ? [Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n')]
              : []),
            Buffer.from('0\r\n\r\n'),
          ]);
      const answer = await rawRequest(
        port,
        Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]),
      );
      return {
        status: answer.status,
        contentType: answer.headers['content-type'] ?? '',
        body: answer.body,
      };
    }
    const res = await test.app.inject({
      method: c.method,
      url: c.url,
      headers: c.headers,
      ...(c.payload === undefined
        ? {}
        : { payload: c.chunked ? Readable.from([Buffer.from(c.payload)]) : c.payload }),
      ...(c.remoteAddress === undefined ? {} : { remoteAddress: c.remoteAddress }),
    });
    return {
      status: res.statusCode,
      contentType: String(res.headers['content-type'] ?? ''),
      body: res.body,
    };
  }

  async function fuzz(route: string, index: number, cases: fc.Arbitrary<FuzzCase>): Promise<void> {
    const s = statsFor(route);
    let before = await countRows();
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const started = process.hrtime.bigint();
        const answer = await send(c);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        s.requests += 1;
        total += 1;
        s.statuses.set(answer.status, (s.statuses.get(answer.status) ?? 0) + 1);
        if (answer.status >= 400 && (s.slowest === null || ms > s.slowest.ms)) {
          s.slowest = { ms, status: answer.status, label: c.label };
        }
        const problems = answerProblems(answer);
        const after = await countRows();
        const written = rowChanges(before, after);
        if (answer.status >= 400 && written !== null) {
          problems.push(`rows written for a ${answer.status}: ${written}`);
        }
        before = after;
        if (problems.length === 0) return;
        throw new Error(
          `${problems.join('; ')}\n  answer ${answer.status} ${answer.contentType} ${clip(answer.body, 600)}`,
        );
      }),
      REPLAY && Number(REPLAY[1]) === SEED + index
        ? { seed: SEED + index, path: REPLAY[2], numRuns: 1, endOnFailure: true }
        : { numRuns: RUNS, seed: SEED + index },
    );
  }

  /** After a route's run: the process is alive and still does its job. */
  async function stillServing(
    route: string,
    valid: () => Promise<{ statusCode: number; body: string }>,
  ) {
    const s = statsFor(route);
    const live = await test.app.inject({ method: 'GET', url: '/api/v1/health/live' });
    expect(live.statusCode).toBe(200);
    const overSocket = await rawRequest(
      port,
      Buffer.from(
        'GET /api/v1/health/live HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n',
      ),
    );
    expect(overSocket.status).toBe(200);
    const res = await valid();
    s.requests += 3;
    total += 3;
    if (res.statusCode < 200 || res.statusCode > 299) {
      throw new Error(`${route} no longer serves a valid request: ${res.statusCode} ${res.body}`);
    }
  }

  const freshIp = () => {
    ipCounter += 1;
    return `198.18.${ipCounter >> 8}.${ipCounter & 255}`;
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const constantPath = (path: string) => fc.constant<PathSpec>({ label: '', path });

  const publicAuth: fc.Arbitrary<HeaderSpec> = fc.oneof(
    { weight: 12, arbitrary: fc.constant(NO_HEADERS) },
    {
      weight: 1,
      arbitrary: oddHeaderValue.map((value) => ({
        label: 'auth:odd',
        headers: { authorization: value },
      })),
    },
  );

  function bearerAuth(good: string): fc.Arbitrary<HeaderSpec> {
    const now = Math.floor(Date.now() / 1000);
    const claims = (extra: Record<string, unknown>) => ({
      iss: JWT_ISSUER,
      aud: JWT_AUDIENCE,
      iat: now,
      exp: now + 600,
      ...extra,
    });
    const header = { alg: 'HS256', typ: 'JWT' };
    return fc.oneof(
      { weight: 16, arbitrary: fc.constant<HeaderSpec>({ label: '', headers: bearer(good) }) },
      {
        weight: 2,
        arbitrary: fc.constantFrom<HeaderSpec>(
          { label: 'auth:none', headers: {} },
          { label: 'auth:empty-bearer', headers: { authorization: 'Bearer' } },
          { label: 'auth:lowercase', headers: { authorization: `bearer ${good}` } },
          { label: 'auth:basic', headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } },
          { label: 'auth:two-tokens', headers: { authorization: `Bearer ${good} Bearer ${good}` } },
          { label: 'auth:tampered', headers: bearer(`${good.slice(0, -3)}AAA`) },
          {
            label: 'auth:alg-none',
            headers: bearer(
              forgeJwt({ alg: 'none', typ: 'JWT' }, claims({ sub: adminId, role: 'admin' }), null),
            ),
          },
          {
            label: 'auth:wrong-secret',
            headers: bearer(
              forgeJwt(header, claims({ sub: adminId, role: 'admin' }), 'x'.repeat(40)),
            ),
          },
          {
            label: 'auth:expired',
            headers: bearer(
              forgeJwt(header, claims({ sub: adminId, exp: now - 3_600 }), jwtSecret),
            ),
          },
          {
            label: 'auth:hs512',
            headers: bearer(
              forgeJwt({ alg: 'HS512', typ: 'JWT' }, claims({ sub: adminId }), jwtSecret),
            ),
          },
          { label: 'auth:viewer', headers: bearer(viewerToken) },
          { label: 'auth:10kb', headers: { authorization: `Bearer ${'a'.repeat(10_240)}` } },
          {
            label: 'auth:two-headers(garbage first)',
            headers: { authorization: 'Bearer garbage' },
            rawAfter: [['authorization', `Bearer ${good}`]],
            rawOnly: true,
          },
          {
            label: 'auth:two-headers(good first)',
            headers: bearer(good),
            rawAfter: [['authorization', 'Bearer garbage']],
            rawOnly: true,
          },
        ),
      },
      {
        weight: 1,
        arbitrary: fc
          .record({
            sub: fc.oneof(nastyString, fc.uuid(), fc.constant(adminId)),
            role: fc.oneof(fc.constant('admin'), nastyString),
            akid: fc.option(fc.oneof(nastyString, fc.uuid())),
          })
          .map(({ sub, role, akid }): HeaderSpec => ({
            label: 'auth:forged-claims',
            headers: bearer(
              forgeJwt(
                header,
                claims({ sub, role, ...(akid === null ? {} : { akid }) }),
                jwtSecret,
              ),
            ),
          })),
      },
      {
        weight: 1,
        arbitrary: oddHeaderValue.map((value) => ({
          label: 'auth:odd',
          headers: { authorization: value },
        })),
      },
    );
  }

  const emailValue = () =>
    fc.oneof(
      { weight: 3, arbitrary: fc.emailAddress() },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          'admin@example.com',
          'ADMIN@EXAMPLE.COM',
          ' admin@example.com ',
          sender.email,
          'a@b',
          'a@b.c',
        ),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(
            fc.string({ unit: oddUnit, minLength: 1, maxLength: 8 }),
            fc.constantFrom('example.com', 'exämple.com', 'xn--exmple-cua.com'),
          )
          .map(([local, domain]) => `${local}@${domain}`),
      },
      { weight: 2, arbitrary: nastyString },
    );

  const oddId = (valid: string[]) =>
    fc.oneof(
      fc.constantFrom(
        '%00',
        '..%2f..%2fapi-keys',
        '..%2F',
        '%2e%2e%2f',
        '..',
        '.',
        'x'.repeat(1_000),
        '9'.repeat(1_000),
        '%',
        '%zz',
        '%E0%A4%A',
        '%ED%A0%80',
        '%F0%9F%91%8D',
        "'%20OR%201%3D1--",
        '__proto__',
        'constructor',
        ';DROP%20TABLE%20users',
        '00000000-0000-0000-0000-000000000000',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
        'a%2Fb',
        '-1',
        '1e3',
        ...valid.flatMap((id) => [
          id.toUpperCase(),
          `{${id}}`,
          `${id}%00`,
          `${id}/x`,
          `${id}%2F..`,
          `${id} `,
        ]),
      ),
      fc.uuid().map((id) => id.toUpperCase()),
      nastyString.map(pct),
    );

  function idPaths(base: string, valid: string[]): fc.Arbitrary<PathSpec> {
    return fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(...valid).map((id) => ({ label: '', path: `${base}/${id}` })),
      },
      {
        weight: 1,
        arbitrary: fc.uuid().map((id) => ({ label: 'path:unknown', path: `${base}/${id}` })),
      },
      {
        weight: 3,
        arbitrary: oddId(valid).map((id): PathSpec => ({
          label: `path:${clip(id, 40)}`,
          path: `${base}/${id}`,
          known: paramKnown(id),
        })),
      },
    );
  }

  it('POST /api/v1/auth/login', async () => {
    const route: JsonRoute = {
      name: LOGIN,
      method: 'POST',
      limit: AUTH_BODY_LIMIT_BYTES,
      keys: ['email', 'password'],
      padKey: 'password',
      valid: fc.record({
        email: emailValue(),
        password: fc.oneof(
          fc.string({ minLength: 1, maxLength: 64 }),
          nastyString,
          fc.constant(TEST_PASSWORD),
        ),
      }),
      paths: constantPath(LOGIN),
      auth: publicAuth,
    };
    await fuzz(LOGIN, 0, jsonCases(route));
    await stillServing(LOGIN, () =>
      test.app.inject({
        method: 'POST',
        url: LOGIN,
        payload: { email: canaryEmail, password: TEST_PASSWORD },
        remoteAddress: freshIp(),
      }),
    );
  }, 180_000);

  it('POST /api/v1/auth/token', async () => {
    const route: JsonRoute = {
      name: TOKEN,
      method: 'POST',
      limit: AUTH_BODY_LIMIT_BYTES,
      keys: ['apiKey'],
      padKey: 'apiKey',
      valid: fc.record({
        apiKey: fc.oneof(
          fc.constant(apiKey),
          fc.stringMatching(/^wak_[A-Za-z0-9_-]{43}$/),
          fc.constant(`${apiKey.slice(0, -1)}${apiKey.endsWith('A') ? 'B' : 'A'}`),
          fc.string({ minLength: 1, maxLength: 64 }),
          nastyString,
        ),
      }),
      paths: constantPath(TOKEN),
      auth: publicAuth,
    };
    await fuzz(TOKEN, 1, jsonCases(route));
    await stillServing(TOKEN, () =>
      test.app.inject({
        method: 'POST',
        url: TOKEN,
        payload: { apiKey },
        remoteAddress: freshIp(),
      }),
    );
  }, 180_000);

  it('POST /api/v1/whatsapp/webhook', async () => {
    await fuzz(INBOUND, 2, webhookCases(INBOUND, 'inbound', seeded));
    await stillServing(INBOUND, () =>
      signedPost(
        INBOUND,
        {
          MessageSid: `SM${randomBytes(16).toString('hex')}`,
          From: 'whatsapp:+14155559876',
          To: TWILIO_NUMBER,
          Body: 'still here',
        },
        freshIp(),
      ),
    );
  }, 180_000);

  it('POST /api/v1/whatsapp/status', async () => {
    await fuzz(STATUS, 3, webhookCases(STATUS, 'status', seeded));
    await stillServing(STATUS, () =>
      signedPost(
        STATUS,
        {
          AccountSid: `AC${'1'.repeat(32)}`,
          MessageSid: `SM${randomBytes(16).toString('hex')}`,
          MessageStatus: 'delivered',
        },
        freshIp(),
      ),
    );
  }, 180_000);

  it('POST /api/v1/whatsapp/send', async () => {
    const phone = fc.oneof(
      fc.constantFrom(
        '+14155550100',
        'whatsapp:+14155550101',
        `whatsapp:${CONTACT_PHONE}`,
        '+447911123456',
        '+4915112345678',
        '+5511987654321',
      ),
      nastyString,
    );
    const text = fc.oneof(
      fc.string({ minLength: 1, maxLength: 50 }),
      nastyString,
      fc.constantFrom('x'.repeat(1_600), 'x'.repeat(1_601), '€'.repeat(1_600)),
    );
    const mediaUrl = fc.oneof(
      fc.constantFrom(
        'https://example.com/a.jpg',
        'http://example.com/a.jpg',
        `https://${'a'.repeat(2_040)}.com`,
        'javascript:alert(1)',
        'file:///etc/passwd',
        'https://127.0.0.1/../../etc/passwd',
      ),
      fc.webUrl(),
    );
    const variables = fc.dictionary(
      fc.oneof(fc.string({ maxLength: 5 }), fc.constantFrom(...KEY_INJECTIONS)),
      fc.oneof(fc.string({ maxLength: 20 }), nastyString),
      { maxKeys: 5 },
    );
    const metadata = fc.dictionary(
      fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...KEY_INJECTIONS)),
      fc.oneof(fc.jsonValue({ maxDepth: 2 }), nastyString),
      { maxKeys: 5 },
    );
    const reference = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), nastyString);
    const route: JsonRoute = {
      name: SEND,
      method: 'POST',
      limit: JSON_BODY_LIMIT_BYTES,
      keys: [
        'to',
        'message',
        'mediaUrl',
        'contentSid',
        'contentVariables',
        'reference',
        'metadata',
      ],
      padKey: 'message',
      valid: fc.oneof(
        fc.record(
          { to: phone, message: text, reference, metadata },
          { requiredKeys: ['to', 'message'] },
        ),
        fc.record(
          { to: phone, contentSid, contentVariables: variables, reference, metadata },
          { requiredKeys: ['to', 'contentSid'] },
        ),
        fc.record(
          {
            to: phone,
            mediaUrl: fc.oneof(mediaUrl, fc.array(mediaUrl, { maxLength: 12 })),
            message: text,
          },
          { requiredKeys: ['to', 'mediaUrl'] },
        ),
      ),
      paths: constantPath(SEND),
      auth: bearerAuth(sender.token),
      extra: fc.oneof(
        { weight: 6, arbitrary: fc.constant(NO_HEADERS) },
        {
          weight: 3,
          arbitrary: fc.constantFrom('key-1', 'key-2', 'key-3').map((key) => ({
            label: 'idempotency:reused',
            headers: { 'idempotency-key': key },
          })),
        },
        {
          weight: 2,
          arbitrary: fc
            .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 255 })
            .map((key) => ({
              label: 'idempotency:random',
              headers: { 'idempotency-key': key },
            })),
        },
        {
          weight: 2,
          arbitrary: fc.oneof(oddHeaderValue, fc.constantFrom('', 'k'.repeat(256))).map((key) => ({
            label: `idempotency:odd(${key.length})`,
            headers: { 'idempotency-key': key },
          })),
        },
        {
          weight: 1,
          arbitrary: fc.constant<HeaderSpec>({
            label: 'idempotency:duplicated',
            headers: { 'idempotency-key': 'dup-a' },
            rawAfter: [['idempotency-key', 'dup-b']],
            rawOnly: true,
          }),
        },
      ),
    };
    await fuzz(SEND, 4, jsonCases(route));
    await stillServing(SEND, () =>
      test.app.inject({
        method: 'POST',
        url: SEND,
        headers: bearer(sender.token),
        payload: {
          to: `+1415556${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`, // never fuzzed
          contentSid: `HX${randomBytes(16).toString('hex')}`,
        },
      }),
    );
  }, 180_000);

  it('POST /api/v1/users', async () => {
    const route: JsonRoute = {
      name: USERS,
      method: 'POST',
      limit: JSON_BODY_LIMIT_BYTES,
      keys: ['email', 'password', 'role'],
      padKey: 'password',
      // Found (fixed): K4 — an email with a lone surrogate answers 500.
      knownFor: loneSurrogateEmail,
      valid: fc.record({
        email: emailValue(),
        password: fc.oneof(fc.string({ minLength: 12, maxLength: 64 }), nastyString),
        role: fc.oneof(
          fc.constantFrom('admin', 'sender', 'viewer', 'viewer', 'ADMIN', 'root'),
          nastyString,
        ),
      }),
      paths: constantPath(USERS),
      auth: bearerAuth(adminToken),
    };
    await fuzz(`POST ${USERS}`, 5, jsonCases(route));
    await stillServing(`POST ${USERS}`, () =>
      test.app.inject({
        method: 'POST',
        url: USERS,
        headers: bearer(adminToken),
        payload: { email: uniqueEmail('still'), password: TEST_PASSWORD, role: 'viewer' },
      }),
    );
  }, 180_000);

  it('PATCH /api/v1/users/:id', async () => {
    const route: JsonRoute = {
      name: `${USERS}/:id`,
      method: 'PATCH',
      limit: JSON_BODY_LIMIT_BYTES,
      keys: ['role', 'disabled'],
      padKey: 'role',
      valid: fc.record(
        {
          role: fc.oneof(fc.constantFrom('admin', 'sender', 'viewer', 'Admin'), nastyString),
          disabled: fc.oneof(fc.boolean(), fc.constantFrom<unknown>('true', 0, 1, null)),
        },
        { requiredKeys: [] },
      ),
      paths: idPaths(USERS, victimIds),
      auth: bearerAuth(adminToken),
    };
    await fuzz(`PATCH ${USERS}/:id`, 6, jsonCases(route));
    await stillServing(`PATCH ${USERS}/:id`, () =>
      test.app.inject({
        method: 'PATCH',
        url: `${USERS}/${victimIds[0]}`,
        headers: bearer(adminToken),
        payload: { role: 'viewer', disabled: false },
      }),
    );
  }, 180_000);

  it('POST /api/v1/api-keys', async () => {
    const route: JsonRoute = {
      name: API_KEYS,
      method: 'POST',
      limit: JSON_BODY_LIMIT_BYTES,
      keys: ['userId'],
      padKey: 'userId',
      valid: fc.record(
        {
          userId: fc.oneof(
            fc.constantFrom(...victimIds, sender.id),
            fc.uuid(),
            fc.constantFrom(...victimIds).map((id) => id.toUpperCase()),
            nastyString,
          ),
        },
        { requiredKeys: [] },
      ),
      paths: constantPath(API_KEYS),
      auth: bearerAuth(adminToken),
    };
    await fuzz(API_KEYS, 7, jsonCases(route));
    await stillServing(API_KEYS, () =>
      test.app.inject({ method: 'POST', url: API_KEYS, headers: bearer(adminToken), payload: {} }),
    );
  }, 180_000);

  it('PATCH /api/v1/contacts/:phone', async () => {
    const phones = [
      CONTACT_PHONE,
      pct(CONTACT_PHONE),
      `whatsapp:${CONTACT_PHONE}`,
      pct(`whatsapp:${CONTACT_PHONE}`),
    ];
    const route: JsonRoute = {
      name: `${CONTACTS}/:phone`,
      method: 'PATCH',
      limit: JSON_BODY_LIMIT_BYTES,
      keys: ['optedOut'],
      padKey: 'optedOut',
      valid: fc.record({
        optedOut: fc.oneof(fc.boolean(), fc.constantFrom<unknown>('true', 0, 1, null)),
      }),
      paths: fc.oneof(
        { weight: 4, arbitrary: idPaths(CONTACTS, phones) },
        {
          weight: 2,
          arbitrary: fc
            .oneof(
              fc.constantFrom(
                '14155550123',
                '+1%20415%20555%200123',
                '+0',
                '+',
                '+999999999999999',
                '%D9%A0%D9%A1',
              ),
              fc
                .integer({ min: 0, max: 9_999 })
                .map((n) => `%2B1415555${String(n).padStart(4, '0')}`),
            )
            .map((phone): PathSpec => ({
              label: `path:${phone}`,
              path: `${CONTACTS}/${phone}`,
              known: paramKnown(phone),
            })),
        },
      ),
      auth: bearerAuth(adminToken),
    };
    await fuzz(`PATCH ${CONTACTS}/:phone`, 8, jsonCases(route));
    await stillServing(`PATCH ${CONTACTS}/:phone`, () =>
      test.app.inject({
        method: 'PATCH',
        url: `${CONTACTS}/${pct(CONTACT_PHONE)}`,
        headers: bearer(adminToken),
        payload: { optedOut: false },
      }),
    );
  }, 180_000);
});
