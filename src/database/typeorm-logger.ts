import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLoggerContract } from 'typeorm';
import { maskPhoneNumbersInText } from '../common/logging/mask';

export type TypeOrmLogLevel = 'error' | 'warn' | 'migration' | 'schema' | 'log' | 'info';

/**
 * Sends TypeORM's messages through the app's pino logger instead of console.log. Query
 * parameters are never logged: they carry phone numbers and message bodies; Postgres' message
 * can quote a value ("invalid input syntax …: \"+1415…\""), so numbers in it are masked.
 */
export class TypeOrmLogger implements TypeOrmLoggerContract {
  private readonly logger = new NestLogger('TypeORM');

  constructor(private readonly levels: ReadonlySet<TypeOrmLogLevel>) {}

  logQuery(): void {
    // Per-query logging is off: too much volume and personal data.
  }

  logQueryError(error: string | Error, query: string): void {
    if (!this.levels.has('error')) return;
    this.logger.warn(
      {
        query: truncate(query),
        reason: maskPhoneNumbersInText(error instanceof Error ? error.message : error),
      },
      'Query failed',
    );
  }

  logQuerySlow(time: number, query: string): void {
    if (!this.levels.has('warn')) return;
    this.logger.warn({ query: truncate(query), durationMs: time }, 'Slow query');
  }

  logSchemaBuild(message: string): void {
    if (!this.levels.has('schema')) return;
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    if (!this.levels.has('migration')) return;
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (!this.levels.has(level)) return;
    if (level === 'warn') this.logger.warn(message);
    else this.logger.log(message);
  }
}

function truncate(query: string): string {
  return query.length > 500 ? `${query.slice(0, 500)}…` : query;
}
