import * as fc from 'fast-check';
import { MAX_QUERY_PARAMS } from '../../../src/common/http/input-shape';
import { NO_HEADERS, type HeaderSpec } from './cases';
import { nastyString, noise, oddHeaderValue, pct } from './hostile-values';

// The headers and query strings any route may get, whatever its body: odd, oversized, repeated
// and duplicated headers (some only over a socket, where Node's parser decides), and query
// strings at and over the limit or carrying injection strings.

/** Odd, oversized and repeated headers any route may get. */
export const miscHeaders: fc.Arbitrary<HeaderSpec> = fc.oneof(
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

export const queryString: fc.Arbitrary<string> = fc.oneof(
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
