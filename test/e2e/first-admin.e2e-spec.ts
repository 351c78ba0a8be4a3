import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { dropDatabase, ensureDatabase, runMigrations } from '../../src/database/database-setup';
import { UsersService } from '../../src/modules/auth/users.service';
import { login } from '../factories/users.factory';
import { startTestApp, type TestApp } from '../support/test-app';
import { databaseUrlFor } from '../support/test-env';

async function admins(url: string): Promise<{ email: string }[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ email: string }>("SELECT email FROM users WHERE role = 'admin'"))
      .rows;
  } finally {
    await client.end();
  }
}

function runCli(
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<{ code: number | null; output: string }> {
  const cli = join(__dirname, '..', '..', 'dist', 'src', 'modules', 'auth', 'user-create.cli.js');
  const child = spawn(process.execPath, [cli, ...args], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(stdin ?? '');
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('first admin and the user CLI (own database)', () => {
  const url = databaseUrlFor(`wa_test_${Date.now()}_${randomBytes(3).toString('hex')}_admin`);
  const started: TestApp[] = [];

  beforeAll(async () => {
    await ensureDatabase(url);
    await runMigrations({ url, poolSize: 2 });
  });

  afterAll(async () => {
    await Promise.all(started.map((test) => test.close()));
    await dropDatabase(url);
  });

  it('should create exactly one first admin when replicas start together', async () => {
    const env = {
      DATABASE_URL: url,
      ADMIN_EMAIL: 'Root@Example.com',
      ADMIN_PASSWORD: 'first-admin-password',
    };
    started.push(...(await Promise.all([startTestApp(env), startTestApp(env), startTestApp(env)])));
    expect(await admins(url)).toEqual([{ email: 'root@example.com' }]);
    // The race itself, at its narrowest: ten replicas' bootstraps on a database without an admin.
    const client = new Client({ connectionString: url });
    await client.connect();
    await client.query("DELETE FROM users WHERE role = 'admin'");
    await client.end();
    const users = started[0].app.get(UsersService, { strict: false });
    const created = await Promise.all(
      Array.from({ length: 10 }, () =>
        users.ensureFirstAdmin('root@example.com', 'first-admin-password'),
      ),
    );
    expect(created.filter(Boolean)).toHaveLength(1);
    expect(await admins(url)).toEqual([{ email: 'root@example.com' }]);
    expect(await login(started[0].app, 'root@example.com', 'first-admin-password')).toEqual(
      expect.any(String),
    );
  });

  it('should not create another admin when one exists, whatever ADMIN_EMAIL says', async () => {
    started.push(
      await startTestApp({
        DATABASE_URL: url,
        ADMIN_EMAIL: 'other@example.com',
        ADMIN_PASSWORD: 'other-admin-password',
      }),
    );
    expect(await admins(url)).toEqual([{ email: 'root@example.com' }]);
  });

  it('should create a user from the CLI with the password from the environment, who can then log in', async () => {
    const result = await runCli(['--email', 'cli-user@example.com', '--role', 'sender'], {
      DATABASE_URL: url,
      USER_PASSWORD: 'cli-user-password',
    });
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/created user [0-9a-f-]{36} cli-user@example.com \(sender\)/);
    expect(result.output).not.toContain('cli-user-password');
    expect(await login(started[0].app, 'cli-user@example.com', 'cli-user-password')).toEqual(
      expect.any(String),
    );
  });

  it('should read the password from standard input', async () => {
    const result = await runCli(
      ['--email', 'stdin-user@example.com', '--role', 'viewer'],
      { DATABASE_URL: url },
      'stdin-user-password\n',
    );
    expect(result.code).toBe(0);
    expect(await login(started[0].app, 'stdin-user@example.com', 'stdin-user-password')).toEqual(
      expect.any(String),
    );
  });

  it.each([
    [
      ['--email', 'x@example.com', '--role', 'root'],
      'short',
      /--role must be one of admin, sender, viewer/,
    ],
    [['--role', 'admin'], 'long-enough-password', /--email <address> is required/],
    [['--email', 'short@example.com'], 'short', /at least|12/],
    [['--email', 'cli-user@example.com'], 'long-enough-password', /exists/],
  ])('should refuse %p with a clear message and exit 1', async (args, password, message) => {
    const result = await runCli(args, { DATABASE_URL: url, USER_PASSWORD: password });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(message);
  });
});
