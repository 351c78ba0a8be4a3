import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { ConfigError } from '../../config/env-reader';
import { loadConfig } from '../../config/load-config';
import { processEnv } from '../../config/process-env';
import { dataSourceOptions } from '../../database/data-source-options';
import { USER_ROLES, type UserRole } from './entities/user.entity';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, PasswordHasher } from './password-hasher';
import { EmailTakenError, UsersRepository } from './users.repository';

// npm run user:create -- --email ops@example.com --role admin
// The password comes from USER_PASSWORD or standard input, never from the command line
// (argv is visible to every user of the machine and lands in shell history).
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, role: { type: 'string', default: 'sender' } },
  });
  const email = values.email?.trim();
  const role = values.role as UserRole;
  if (!email || !/^[^\s@]+@[^\s@]+$/.test(email))
    throw new UsageError('--email <address> is required');
  if (!USER_ROLES.includes(role))
    throw new UsageError(`--role must be one of ${USER_ROLES.join(', ')}`);
  const env = processEnv();
  const password = env.USER_PASSWORD ?? (await readStdin());
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new UsageError(
      `the password must be ${PASSWORD_MIN_LENGTH}–${PASSWORD_MAX_LENGTH} characters`,
    );
  }
  const config = loadConfig(env);
  const dataSource = await new DataSource(
    dataSourceOptions(config.database, ['error']),
  ).initialize();
  try {
    const hash = await new PasswordHasher().hash(password);
    const user = await new UsersRepository(dataSource).create(email, hash, role);
    process.stdout.write(`created user ${user.id} ${user.email} (${user.role})\n`);
  } finally {
    await dataSource.destroy();
  }
}

class UsageError extends Error {}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (then Enter, Ctrl-D): ');
  let text = '';
  for await (const chunk of process.stdin) text += (chunk as Buffer).toString('utf8');
  return text.replace(/\r?\n$/, '');
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.lines().join('\n')}\n`);
  else if (error instanceof EmailTakenError)
    process.stderr.write('user:create: a user with this email exists\n');
  else if (error instanceof UsageError) process.stderr.write(`user:create: ${error.message}\n`);
  else
    process.stderr.write(
      `user:create: ${error instanceof Error ? error.message : String(error)}\n`,
    );
  process.exit(1);
});
