import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { JWT_AUDIENCE, JWT_ISSUER } from '../../src/modules/auth/auth.types';
import { DEV_JWT_SECRET } from '../../src/config/dev-defaults';
import {
  adminToken,
  createUser,
  decodeJwt,
  forgeJwt,
  login,
  TEST_PASSWORD,
  uniqueEmail,
} from '../factories/users.factory';
import { startTestApp, type TestApp } from '../support/test-app';

describe('auth: login, tokens and the guard', () => {
  let test: TestApp;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    test = await startTestApp();
  });

  afterAll(async () => {
    await test.close();
  });

  const listUsers = (authorization?: string) =>
    test.app.inject({
      method: 'GET',
      url: '/api/v1/users',
      headers: authorization === undefined ? {} : { authorization },
    });

  it('should log in with the answer shape of the contract and an HS256 JWT with iss, aud, sub, role, exp', async () => {
    const user = await createUser(test.app, 'sender');
    const res = await test.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email.toUpperCase(), password: TEST_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ accessToken: string; tokenType: string; expiresIn: number }>();
    expect(body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900 });
    const { header, payload } = decodeJwt(body.accessToken);
    expect(header.alg).toBe('HS256');
    expect(payload).toMatchObject({
      iss: JWT_ISSUER,
      aud: JWT_AUDIENCE,
      sub: user.id,
      role: 'sender',
    });
    expect(Number(payload.exp) - Number(payload.iat)).toBe(900);
  });

  it('should answer a wrong password and an unknown email with the same 401', async () => {
    const user = await createUser(test.app, 'viewer');
    const wrong = await test.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: 'not-the-password' },
    });
    const unknown = await test.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: uniqueEmail('nobody'), password: 'not-the-password' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
    expect(wrong.json()).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('should answer a route without a token with 401 and WWW-Authenticate: Bearer', async () => {
    const res = await listUsers();
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('should give 403 to a valid token with the wrong role and 200 to the right one', async () => {
    const viewer = await createUser(test.app, 'viewer');
    const sender = await createUser(test.app, 'sender');
    expect((await listUsers(`Bearer ${viewer.token}`)).statusCode).toBe(403);
    expect((await listUsers(`Bearer ${sender.token}`)).json()).toMatchObject({ code: 'FORBIDDEN' });
    expect((await listUsers(`Bearer ${await adminToken(test.app)}`)).statusCode).toBe(200);
  });

  describe('rejects for sure', () => {
    let adminId: string;

    beforeAll(async () => {
      adminId = String(decodeJwt(await adminToken(test.app)).payload.sub);
    });

    const claims = (patch: Record<string, unknown> = {}) => ({
      sub: adminId,
      role: 'admin',
      iss: JWT_ISSUER,
      aud: JWT_AUDIENCE,
      iat: now(),
      exp: now() + 600,
      ...patch,
    });

    it('should accept a correctly forged-by-us control token (the cases below differ in one thing)', async () => {
      const token = forgeJwt({ alg: 'HS256', typ: 'JWT' }, claims(), DEV_JWT_SECRET);
      expect((await listUsers(`Bearer ${token}`)).statusCode).toBe(200);
    });

    it.each([
      ['alg none', () => forgeJwt({ alg: 'none', typ: 'JWT' }, claims(), null)],
      [
        'another algorithm (HS512)',
        () => forgeJwt({ alg: 'HS512', typ: 'JWT' }, claims(), DEV_JWT_SECRET),
      ],
      ['another secret', () => forgeJwt({ alg: 'HS256' }, claims(), 'x'.repeat(40))],
      [
        'a tampered payload',
        () => {
          const [header, , signature] = forgeJwt(
            { alg: 'HS256' },
            claims({ role: 'viewer' }),
            DEV_JWT_SECRET,
          ).split('.');
          return `${header}.${Buffer.from(JSON.stringify(claims({ role: 'admin', sub: 'x' }))).toString('base64url')}.${signature}`;
        },
      ],
      [
        'an expired token',
        () =>
          forgeJwt(
            { alg: 'HS256' },
            claims({ iat: now() - 1000, exp: now() - 31 }),
            DEV_JWT_SECRET,
          ),
      ],
      [
        'a wrong issuer',
        () => forgeJwt({ alg: 'HS256' }, claims({ iss: 'someone-else' }), DEV_JWT_SECRET),
      ],
      [
        'a wrong audience',
        () => forgeJwt({ alg: 'HS256' }, claims({ aud: 'another-api' }), DEV_JWT_SECRET),
      ],
      ['no audience', () => forgeJwt({ alg: 'HS256' }, claims({ aud: undefined }), DEV_JWT_SECRET)],
      ['a garbage token', () => 'not.a.jwt'],
      [
        'an unknown user',
        () =>
          forgeJwt(
            { alg: 'HS256' },
            claims({ sub: '6f1c1c1e-0000-4000-8000-000000000000' }),
            DEV_JWT_SECRET,
          ),
      ],
    ])('should reject %s with 401', async (_case, make) => {
      const res = await listUsers(`Bearer ${make()}`);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
    });

    it('should allow up to 30 s of clock skew on exp', async () => {
      const token = forgeJwt(
        { alg: 'HS256' },
        claims({ iat: now() - 1000, exp: now() - 20 }),
        DEV_JWT_SECRET,
      );
      expect((await listUsers(`Bearer ${token}`)).statusCode).toBe(200);
    });

    it('should reject the token of a user deleted meanwhile', async () => {
      const user = await createUser(test.app, 'admin');
      expect((await listUsers(`Bearer ${user.token}`)).statusCode).toBe(200);
      await test.app.get(DataSource).query('DELETE FROM users WHERE id = $1', [user.id]);
      await new Promise((resolve) => setTimeout(resolve, 1_100)); // the principal cache (1 s)
      expect((await listUsers(`Bearer ${user.token}`)).statusCode).toBe(401);
    });
  });

  it('should stop a disabled user at once, and let them back in when enabled', async () => {
    const user = await createUser(test.app, 'admin');
    const admin = `Bearer ${await adminToken(test.app)}`;
    expect((await listUsers(`Bearer ${user.token}`)).statusCode).toBe(200);
    const disabled = await test.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: { authorization: admin },
      payload: { disabled: true },
    });
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toMatchObject({ id: user.id, disabledAt: expect.any(String) });
    expect((await listUsers(`Bearer ${user.token}`)).statusCode).toBe(401);
    const relogin = await test.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: user.email, password: TEST_PASSWORD },
    });
    expect(relogin.statusCode).toBe(401);
    await test.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: { authorization: admin },
      payload: { disabled: false },
    });
    expect((await listUsers(`Bearer ${user.token}`)).statusCode).toBe(200);
  });

  it('should apply a role change to existing tokens at once', async () => {
    const user = await createUser(test.app, 'admin');
    await test.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: { authorization: `Bearer ${await adminToken(test.app)}` },
      payload: { role: 'viewer' },
    });
    expect((await listUsers(`Bearer ${user.token}`)).statusCode).toBe(403);
  });
});

describe('auth: users and API keys', () => {
  let test: TestApp;
  let admin: string;

  beforeAll(async () => {
    test = await startTestApp();
    admin = `Bearer ${await adminToken(test.app)}`;
  });

  afterAll(async () => {
    await test.close();
  });

  it('should create a user (201 with id, email, role, createdAt) and refuse the same email in another case', async () => {
    const email = uniqueEmail('new');
    const created = await test.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: admin },
      payload: { email, password: TEST_PASSWORD, role: 'sender' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({
      id: expect.any(String),
      email: email.toLowerCase(),
      role: 'sender',
      createdAt: expect.any(String),
      disabledAt: null,
    });
    expect(created.body).not.toMatch(/password|hash/i);
    const again = await test.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: admin },
      payload: { email: email.toUpperCase(), password: TEST_PASSWORD, role: 'viewer' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'EMAIL_TAKEN' });
  });

  it.each([
    [{ password: 'short-11chr', role: 'sender' }, 'password'],
    [{ password: TEST_PASSWORD, role: 'root' }, 'role'],
    [{ password: TEST_PASSWORD, role: 'sender', email: 'not-an-email' }, 'email'],
  ])('should refuse an invalid user %p naming %s', async (payload, field) => {
    const res = await test.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { authorization: admin },
      payload: { email: uniqueEmail(), ...payload },
    });
    expect(res.statusCode).toBe(400);
    expect(
      res.json<{ details: { field: string }[] }>().details.map((detail) => detail.field),
    ).toContain(field);
    expect(res.body).not.toContain('short-11chr');
  });

  it('should list users without password hashes', async () => {
    const res = await test.app.inject({
      method: 'GET',
      url: '/api/v1/users',
      headers: { authorization: admin },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ items: unknown[] }>().items.length).toBeGreaterThan(0);
    expect(res.body).not.toMatch(/argon2|passwordHash|password_hash/);
  });

  it('should answer 404 for an unknown or malformed user id', async () => {
    for (const id of ['6f1c1c1e-0000-4000-8000-000000000000', 'not-a-uuid', "1' OR '1'='1"]) {
      const res = await test.app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${encodeURIComponent(id)}`,
        headers: { authorization: admin },
        payload: { role: 'viewer' },
      });
      expect(res.statusCode).toBe(404);
    }
  });

  it('should refuse to demote or disable the last active admin', async () => {
    const dataSource = test.app.get(DataSource);
    const admins = await dataSource.query<{ id: string }[]>(
      "SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL",
    );
    const [first, ...others] = admins.map((row) => row.id);
    await dataSource.query("UPDATE users SET role = 'viewer' WHERE id = ANY($1)", [others]);
    try {
      const res = await test.app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${first}`,
        headers: { authorization: admin },
        payload: { disabled: true },
      });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'LAST_ADMIN' });
    } finally {
      await dataSource.query("UPDATE users SET role = 'admin' WHERE id = ANY($1)", [others]);
    }
  });

  it('should issue an API key once, list only its prefix, trade it for a JWT of its user, and revoke it at once', async () => {
    const sender = await createUser(test.app, 'sender');
    const created = await test.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { authorization: admin },
      payload: { userId: sender.id },
    });
    expect(created.statusCode).toBe(201);
    const key = created.json<{ id: string; prefix: string; key: string; createdAt: string }>();
    expect(key.key).toMatch(/^wak_[A-Za-z0-9_-]{43}$/);
    expect(key.key.startsWith(key.prefix)).toBe(true);

    const listed = await test.app.inject({
      method: 'GET',
      url: '/api/v1/api-keys',
      headers: { authorization: admin },
    });
    expect(listed.body).not.toContain(key.key);
    expect(listed.json<{ items: { id: string; prefix: string }[] }>().items).toContainEqual(
      expect.objectContaining({
        id: key.id,
        prefix: key.prefix,
        lastUsedAt: null,
        revokedAt: null,
      }),
    );

    const traded = await test.app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      payload: { apiKey: key.key },
    });
    expect(traded.statusCode).toBe(200);
    const token = traded.json<{ accessToken: string; tokenType: string; expiresIn: number }>();
    expect(token).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(decodeJwt(token.accessToken).payload).toMatchObject({ sub: sender.id, role: 'sender' });
    const afterUse = await test.app.inject({
      method: 'GET',
      url: '/api/v1/api-keys',
      headers: { authorization: admin },
    });
    expect(
      afterUse
        .json<{ items: { id: string; lastUsedAt: string | null }[] }>()
        .items.find((item) => item.id === key.id)?.lastUsedAt,
    ).not.toBeNull();

    const whoCanList = (bearer: string) =>
      test.app.inject({
        method: 'GET',
        url: '/api/v1/users',
        headers: { authorization: `Bearer ${bearer}` },
      });
    expect((await whoCanList(token.accessToken)).statusCode).toBe(403); // a valid sender token

    const revoked = await test.app.inject({
      method: 'DELETE',
      url: `/api/v1/api-keys/${key.id}`,
      headers: { authorization: admin },
    });
    expect(revoked.statusCode).toBe(204);
    expect((await whoCanList(token.accessToken)).statusCode).toBe(401);
    const again = await test.app.inject({
      method: 'POST',
      url: '/api/v1/auth/token',
      payload: { apiKey: key.key },
    });
    expect(again.statusCode).toBe(401);
  });

  it('should refuse unknown and malformed API keys with the same 401', async () => {
    for (const apiKey of [
      `wak_${randomBytes(32).toString('base64url')}`,
      'nonsense',
      'x'.repeat(200),
    ]) {
      const res = await test.app.inject({
        method: 'POST',
        url: '/api/v1/auth/token',
        payload: { apiKey },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED', message: 'Invalid credentials.' });
    }
  });

  it('should keep API keys for admins only', async () => {
    const sender = await createUser(test.app, 'sender');
    const res = await test.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { authorization: `Bearer ${sender.token}` },
      payload: {},
    });
    expect(res.statusCode).toBe(403);
  });

  it('should let a logged-in user in with a token of theirs from login', async () => {
    const viewer = await createUser(test.app, 'viewer');
    expect(await login(test.app, viewer.email)).toEqual(expect.any(String));
  });
});
