import * as fc from 'fast-check';
import { CONTACT_PHONE, NO_HEADERS, type HeaderSpec } from './cases';
import { contentSid, KEY_INJECTIONS, nastyString, oddHeaderValue } from './hostile-values';

// POST /api/v1/whatsapp/send's own fields (recipients, texts, media URLs, template variables,
// metadata, references) and its Idempotency-Key header: what json-requests.ts turns into
// near-valid, wrong-typed, sized and malformed bodies.

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

/** Plausible POST /send bodies: a text, a template or media, to a valid or hostile number. */
export const sendBody: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ to: phone, message: text, reference, metadata }, { requiredKeys: ['to', 'message'] }),
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
);

/** The Idempotency-Key header of a send: none, reused, random, odd or duplicated. */
export const idempotencyKey: fc.Arbitrary<HeaderSpec> = fc.oneof(
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
    arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 255 }).map((key) => ({
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
);
