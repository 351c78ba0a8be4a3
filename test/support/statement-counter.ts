import { DataSource, type Logger } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';

const TRANSACTION_CONTROL = /^\s*(START TRANSACTION|BEGIN|COMMIT|ROLLBACK)\b/i;

/** A logger that keeps every statement TypeORM sends (the app's own logs none). */
class RecordingLogger implements Logger {
  readonly statements: string[] = [];

  logQuery(query: string): void {
    this.statements.push(query);
  }

  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

/**
 * A DataSource that counts what a writer sends per call: `count(work)` runs it and answers how
 * many statements carried data and how many transactions they took. BEGIN and COMMIT are
 * counted apart: they bracket the batch, they are not a statement per row.
 */
export async function countingDataSource(url: string): Promise<{
  dataSource: DataSource;
  count(work: () => Promise<unknown>): Promise<{ statements: number; transactions: number }>;
}> {
  const logger = new RecordingLogger();
  const dataSource = await new DataSource({
    ...dataSourceOptions({ url, poolSize: 2 }, []),
    logger,
  }).initialize();
  return {
    dataSource,
    async count(work) {
      logger.statements.length = 0;
      await work();
      const sent = [...logger.statements];
      return {
        statements: sent.filter((sql) => !TRANSACTION_CONTROL.test(sql)).length,
        transactions: sent.filter((sql) => /^\s*(START TRANSACTION|BEGIN)\b/i.test(sql)).length,
      };
    },
  };
}
