import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ensureDatabase, runMigrations } from '../../src/database/database-setup';
import { ADMIN_DATABASE_URL, databaseUrlFor } from './test-env';

const PREFIX = 'wa_test_';
const STALE_AFTER_MS = 6 * 3600_000;

// One database per test run, migrated with the real migrations; dropped in global-teardown.
export default async function globalSetup(): Promise<void> {
  await dropStaleDatabases();
  const name = `${PREFIX}${Date.now()}_${randomBytes(3).toString('hex')}`;
  const url = databaseUrlFor(name);
  await ensureDatabase(url);
  await runMigrations({ url, poolSize: 2 });
  process.env.TEST_DATABASE_URL = url;
}

// Runs killed before their teardown leave databases behind; clear those older than a few hours.
async function dropStaleDatabases(): Promise<void> {
  const client = new Client({ connectionString: ADMIN_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`${PREFIX}%`],
    );
    for (const { datname } of rows) {
      const createdAt = Number(datname.slice(PREFIX.length).split('_')[0]);
      if (Number.isFinite(createdAt) && Date.now() - createdAt > STALE_AFTER_MS) {
        await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
    }
  } finally {
    await client.end();
  }
}
