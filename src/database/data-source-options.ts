import { join } from 'node:path';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import { TypeOrmLogger, type TypeOrmLogLevel } from './typeorm-logger';

export interface DatabaseSettings {
  url: string;
  poolSize: number;
}

// Fail fast instead of hanging: a webhook must get a 503 within seconds when Postgres is gone
// (Twilio then retries), never a 200 that loses the event.
const CONNECT_TIMEOUT_MS = 3_000;
const STATEMENT_TIMEOUT_MS = 10_000;
// Our transactions never wait on anything but the next statement of our own code (a batch's
// lock, decision and write take milliseconds), so a connection idle in a transaction this long is
// a stalled process or a leak: PostgreSQL ends it. That bounds how long one of ours can hold the
// events feed back (it serves events committed before the oldest transaction still open) and
// how long it can hold row locks.
export const IDLE_IN_TRANSACTION_MS = 15_000;

/** One set of options for the app, the migration CLI and the tests. `synchronize` is off everywhere. */
export function dataSourceOptions(
  settings: DatabaseSettings,
  logLevels: TypeOrmLogLevel[] = ['error', 'warn', 'migration'],
): PostgresDataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    uuidExtension: 'pgcrypto',
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    // .ts under ts-jest, .js once built (dist/migrations).
    migrations: [join(__dirname, '..', '..', 'migrations', '*.{ts,js}')],
    entities: [join(__dirname, '..', '**', '*.entity.{ts,js}')],
    poolSize: settings.poolSize,
    applicationName: 'whatsapp-backend',
    extra: {
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS + 1_000,
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    },
    logger: new TypeOrmLogger(new Set(logLevels)),
    maxQueryExecutionTime: 1_000,
  };
}

/** API reads' own pool (AppConfig.database): a short statement timeout and a bounded wait. */
export interface ReadPoolSettings extends DatabaseSettings {
  statementTimeoutMs: number;
  /** Longest wait for a free connection (or a new one) before the read fails. */
  waitMs: number;
}

// API reads get 30 % of DB_POOL_SIZE (at least one connection) in a pool of their own, so a burst
// of heavy reads can never take the connections webhooks and sends need.
const READ_SHARE = 0.3;

/**
 * How DB_POOL_SIZE is split: `main` serves webhooks, sends, auth and the worker; `reads` the API's
 * list and metrics reads. A worker-only process serves no reads: it keeps the whole budget and a
 * one-connection read pool that nothing uses.
 */
export function splitPool(poolSize: number, servesApi: boolean): { main: number; reads: number } {
  if (!servesApi) return { main: poolSize, reads: 1 };
  const reads = Math.max(1, Math.floor(poolSize * READ_SHARE));
  return { main: Math.max(1, poolSize - reads), reads };
}

/** `application_name` of the read pool's connections (pg_stat_activity). */
export const READ_APPLICATION_NAME = 'whatsapp-backend-reads';

/**
 * The API read pool: every statement ends at `statementTimeoutMs` (server side, SQLSTATE 57014),
 * a read waits at most `waitMs` for a connection, and the connections are read-only.
 */
export function readDataSourceOptions(settings: ReadPoolSettings): PostgresDataSourceOptions {
  return {
    ...dataSourceOptions(settings, ['error', 'warn']),
    migrations: [],
    installExtensions: false,
    applicationName: READ_APPLICATION_NAME,
    extra: {
      connectionTimeoutMillis: settings.waitMs,
      statement_timeout: settings.statementTimeoutMs,
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
      // The client's own bound, for a server that stops answering altogether.
      query_timeout: settings.statementTimeoutMs + 1_000,
      options: '-c default_transaction_read_only=on',
    },
  };
}

/** host:port/db of a Postgres URL, without credentials, for logs and messages. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'postgres';
  }
}
