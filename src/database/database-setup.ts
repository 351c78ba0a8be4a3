import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  dataSourceOptions,
  describeDatabaseUrl,
  type DatabaseSettings,
} from './data-source-options';

/** Postgres could not be reached: the message is one line saying where and how to fix it. */
export class DatabaseUnreachableError extends Error {}

/** Creates the database named in the URL when it does not exist (development and tests only). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
  } catch (error) {
    throw unreachable(url, error);
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount !== 0) return false;
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    return true;
  } catch (error) {
    // Two processes may race to create it; the loser finds it there (42P04 duplicate_database,
    // or 23505 when both passed the catalog check at the same instant).
    const code = (error as { code?: string }).code;
    if (code === '42P04' || code === '23505') return false;
    throw error;
  } finally {
    await client.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  target.pathname = '/postgres';
  const client = new Client({ connectionString: target.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Runs pending migrations; returns their names. */
export async function runMigrations(settings: DatabaseSettings): Promise<string[]> {
  const dataSource = new DataSource(dataSourceOptions(settings, ['error']));
  try {
    await dataSource.initialize();
  } catch (error) {
    throw unreachable(settings.url, error);
  }
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}

function unreachable(url: string, error: unknown): DatabaseUnreachableError {
  const reason = error instanceof Error ? error.message : String(error);
  return new DatabaseUnreachableError(
    `PostgreSQL is unreachable at ${describeDatabaseUrl(url)} (${reason}). ` +
      'Start it (pg_ctlcluster <version> main start, or your service manager) or set DATABASE_URL.',
  );
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
