import { createHmac, randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { UserRole } from '../../src/modules/auth/entities/user.entity';

export const TEST_PASSWORD = 'correct-horse-battery';

export interface TestUser {
  id: string;
  email: string;
  role: UserRole;
  token: string;
}

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomBytes(5).toString('hex')}@Example.com`;
}

/** Logs in through the API and returns the access token. */
export async function login(
  app: NestFastifyApplication,
  email: string,
  password = TEST_PASSWORD,
): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return res.json<{ accessToken: string }>().accessToken;
}

/** The first admin of the test app (ADMIN_EMAIL defaults) logged in. */
export async function adminToken(app: NestFastifyApplication): Promise<string> {
  return login(app, 'admin@example.com', 'dev-admin-password');
}

/** Creates a user through POST /api/v1/users as the admin, and logs it in. */
export async function createUser(
  app: NestFastifyApplication,
  role: UserRole,
  label: string = role,
): Promise<TestUser> {
  const email = uniqueEmail(label);
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/users',
    headers: { authorization: `Bearer ${await adminToken(app)}` },
    payload: { email, password: TEST_PASSWORD, role },
  });
  if (res.statusCode !== 201) throw new Error(`create user failed: ${res.statusCode} ${res.body}`);
  const { id } = res.json<{ id: string }>();
  return { id, email: email.toLowerCase(), role, token: await login(app, email) };
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** Builds a JWT by hand: any header, any payload, signed with `secret` (HS256/HS512) or not at all. */
export function forgeJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: string | null,
): string {
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  if (secret === null) return `${unsigned}.`;
  const algorithm = header.alg === 'HS512' ? 'sha512' : 'sha256';
  return `${unsigned}.${createHmac(algorithm, secret).update(unsigned).digest('base64url')}`;
}

export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>,
  };
}
