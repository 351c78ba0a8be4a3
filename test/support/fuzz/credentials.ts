import * as fc from 'fast-check';
import { JWT_AUDIENCE, JWT_ISSUER } from '../../../src/modules/auth/auth.types';
import { forgeJwt } from '../../factories/users.factory';
import { NO_HEADERS, type HeaderSpec } from './cases';
import { nastyString, oddHeaderValue, oddUnit } from './hostile-values';

// Credentials: the Authorization header of a public route (mostly none) and of an
// authenticated one (mostly the good token; else missing, tampered, forged, expired, of the
// wrong role, duplicated), and the email addresses a login or a new user gets.

/** Who the suite's app knows, for tokens forged in their name. */
export interface KnownUsers {
  adminId: string;
  viewerToken: string;
  jwtSecret: string;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export const publicAuth: fc.Arbitrary<HeaderSpec> = fc.oneof(
  { weight: 12, arbitrary: fc.constant(NO_HEADERS) },
  {
    weight: 1,
    arbitrary: oddHeaderValue.map((value) => ({
      label: 'auth:odd',
      headers: { authorization: value },
    })),
  },
);

export function bearerAuth(good: string, users: KnownUsers): fc.Arbitrary<HeaderSpec> {
  const { adminId, viewerToken, jwtSecret } = users;
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
          headers: bearer(forgeJwt(header, claims({ sub: adminId, exp: now - 3_600 }), jwtSecret)),
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
            forgeJwt(header, claims({ sub, role, ...(akid === null ? {} : { akid }) }), jwtSecret),
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

export const emailValue = (senderEmail: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.emailAddress() },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'admin@example.com',
        'ADMIN@EXAMPLE.COM',
        ' admin@example.com ',
        senderEmail,
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
