import * as fc from 'fast-check';

// Hostile strings and values every generator of the fuzz suite draws from: injection strings,
// odd unicode, NUL bytes, big and incompressible text, wrong-typed JSON values, odd header
// values and client addresses.

export function pct(text: string): string {
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
export function noise(seed: number, length: number): string {
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
export const KEY_INJECTIONS = [
  '__proto__', 'constructor', 'prototype', '$where', '$gt', '$ne', 'hasOwnProperty', 'toString',
  '', ' ', 'a.b', 'a[0]', '\u0000', '\ud800',
];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
export const oddUnit = fc.oneof(
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
export const nastyString: fc.Arbitrary<string> = fc.oneof(
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
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
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
export const hex32 = fc.stringMatching(/^[0-9a-f]{32}$/);
export const contentSid = hex32.map((hex) => `HX${hex}`);
/** What Node would hand over as a header value (latin1, no control characters but tab). */
const headerChar = fc
  .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(9))
  .map((c) => String.fromCharCode(c));
export const oddHeaderValue: fc.Arbitrary<string> = fc.oneof(
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
export const remoteAddress: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.ipV4(),
  fc.ipV6(),
);
