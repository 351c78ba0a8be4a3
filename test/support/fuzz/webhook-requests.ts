import * as fc from 'fast-check';
import { parse as parseQueryString } from 'fast-querystring';
import { WEBHOOK_BODY_LIMIT_BYTES } from '../../../src/common/http/input-limits';
import { MAX_FORM_FIELDS } from '../../../src/common/http/input-shape';
import { twilioSignature, type FormParams } from '../../../src/simulator/twilio-signature';
import { SIM_AUTH_TOKEN } from '../simulator';
import {
  CONTACT_PHONE,
  finishCase,
  FORM,
  NO_HEADERS,
  PUBLIC_URL,
  TWILIO_NUMBER,
  type FuzzCase,
  type HeaderLine,
  type HeaderSpec,
} from './cases';
import { miscHeaders, queryString } from './headers-and-queries';
import { hex32, nastyString, noise, oddHeaderValue, pct, remoteAddress } from './hostile-values';
import { badBytes, CONTENT_TYPES, deep, encodePairs, json, MULTIPART } from './json-requests';

// Requests to Twilio's webhooks (inbound messages, status callbacks): Twilio's form fields with
// hostile values, dropped, repeated and extra fields, bodies at the size and field limits, wrong
// content types and encodings; signed as Twilio signs them, or unsigned, wrongly or twice
// signed; with odd idempotency tokens and `?mid=` query strings.

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

export function webhookCases(
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
