import * as fc from 'fast-check';
import { JSON_BODY_LIMIT_BYTES } from '../../../src/common/http/input-limits';
import {
  MAX_FORM_FIELDS,
  MAX_JSON_DEPTH,
  MAX_JSON_KEYS,
} from '../../../src/common/http/input-shape';
import {
  finishCase,
  FORM,
  isRecord,
  NO_HEADERS,
  type FuzzCase,
  type HeaderLine,
  type HeaderSpec,
  type Method,
} from './cases';
import { miscHeaders, queryString } from './headers-and-queries';
import { KEY_INJECTIONS, nastyString, remoteAddress, wrongValue } from './hostile-values';
import type { PathSpec } from './paths';

// Requests to the JSON routes: a route's plausible bodies (JsonRoute.valid) turned into
// near-valid, wrong-typed, injected, malformed, sized (at the limit), wide, deep, form-encoded,
// wrongly typed and invalid UTF-8 bodies, each with the route's path, credentials and the odd
// headers and query strings any route may get.

export interface BodySpec {
  label: string;
  payload?: string | Buffer;
  /** undefined: application/json; null: no Content-Type header. */
  contentType?: string | null;
  chunked?: boolean;
}

export interface JsonRoute {
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
  /** The fixed bug (K1–K4, top of the suite) a body of this route regresses, if any: a label. */
  knownFor?: (body: BodySpec) => string | undefined;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Found (fixed): K4 — validator's isEmail (class-validator @IsEmail) throws URIError on a string with a
 * lone surrogate, and POST /api/v1/users answers 500 instead of 400.
 */
export function loneSurrogateEmail(body: BodySpec): string | undefined {
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

export const json = (label: string, value: unknown): BodySpec => ({
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
export function deep(keys: string[]): fc.Arbitrary<BodySpec> {
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

export function encodePairs(pairs: HeaderLine[]): string {
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

export const MULTIPART =
  '------fuzz\r\nContent-Disposition: form-data; name="email"\r\n\r\nadmin@example.com\r\n------fuzz--\r\n';
/** Wrong, missing, garbage and borderline content types (null: no header at all). */
// prettier-ignore
export const CONTENT_TYPES: (string | null)[] = [
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

export function badBytes(keys: string[], contentType?: string): fc.Arbitrary<BodySpec> {
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

export function jsonCases(route: JsonRoute): fc.Arbitrary<FuzzCase> {
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
