import * as fc from 'fast-check';
import { clip } from './cases';
import { nastyString, pct } from './hostile-values';

// Request paths: a route's own, or one with a path parameter (a user's id, a contact's phone)
// that is valid, unknown, or odd (encoded, traversing, over-long, undecodable).

export interface PathSpec {
  label: string;
  path: string;
  known?: string;
}

/**
 * Found (fixed): K2 — Fastify's router answers a path parameter it cannot decode (FST_ERR_BAD_URL, 400)
 * or longer than maxParamLength, 100 (FST_ERR_MAX_PARAM_LENGTH, 414) itself, outside the
 * error shape.
 */
export function paramKnown(param: string): string | undefined {
  try {
    return decodeURIComponent(param.split('?')[0]).length > 100 ? 'K2' : undefined;
  } catch {
    return 'K2';
  }
}

/** A route without a path parameter: its own path, always. */
export const constantPath = (path: string) => fc.constant<PathSpec>({ label: '', path });

export const oddId = (valid: string[]) =>
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

export function idPaths(base: string, valid: string[]): fc.Arbitrary<PathSpec> {
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
