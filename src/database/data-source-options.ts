import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { TypeOrmLogger, type TypeOrmLogLevel } from './typeorm-logger';

export interface DatabaseSettings {
  url: string;
  poolSize: number;
}

// Fail fast instead of hanging: a webhook must get a 503 within seconds when Postgres is gone
// (Twilio then retries), never a 200 that loses the event.
const CONNECT_TIMEOUT_MS = 3_000;
const STATEMENT_TIMEOUT_MS = 10_000;

/** One set of options for the app, the migration CLI and the tests. `synchronize` is off everywhere. */
export function dataSourceOptions(
  settings: DatabaseSettings,
  logLevels: TypeOrmLogLevel[] = ['error', 'warn', 'migration'],
): DataSourceOptions {
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
    },
    logger: new TypeOrmLogger(new Set(logLevels)),
    maxQueryExecutionTime: 1_000,
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
