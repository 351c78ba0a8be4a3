import { DataSource } from 'typeorm';
import { ConfigError } from '../config/env-reader';
import { loadConfig } from '../config/load-config';
import { processEnv } from '../config/process-env';
import { dataSourceOptions } from './data-source-options';
import { DatabaseUnreachableError, runMigrations } from './database-setup';

// `npm run migration:run` / `migration:revert`: the only way production migrates (a k8s Job
// runs it before the new pods roll out); the app itself never migrates in production.
async function main(command: string | undefined): Promise<void> {
  const config = loadConfig(processEnv());
  if (command === 'run') {
    const applied = await runMigrations(config.database);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'no pending migrations');
    return;
  }
  if (command === 'revert') {
    const dataSource = await new DataSource(dataSourceOptions(config.database)).initialize();
    try {
      await dataSource.undoLastMigration({ transaction: 'each' });
    } finally {
      await dataSource.destroy();
    }
    return;
  }
  throw new Error('usage: migrate.cli.js run|revert');
}

main(process.argv[2]).catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.lines().join('\n'));
  else if (error instanceof DatabaseUnreachableError) console.error(error.message);
  else console.error(error);
  process.exit(1);
});
