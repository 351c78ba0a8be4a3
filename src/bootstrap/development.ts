import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { DEV_ADMIN_PASSWORD } from '../config/dev-defaults';
import { describeDatabaseUrl } from '../database/data-source-options';
import { ensureDatabase, runMigrations } from '../database/database-setup';
import { createRedisConnection, redactRedisUrl } from '../redis/redis-connection';

const SILENT = { log: () => undefined, warn: () => undefined };

/**
 * Outside production only: create the database if missing, apply pending migrations, and say
 * in one line if Redis is down (the API still starts; the sweeper catches up once it is back).
 * Production never migrates on start: `npm run migration:run` (a k8s Job) does.
 */
export async function prepareDevelopment(config: AppConfig, logger: Logger): Promise<void> {
  if (await ensureDatabase(config.database.url)) {
    logger.info({ database: describeDatabaseUrl(config.database.url) }, 'Created database');
  }
  const applied = await runMigrations(config.database);
  if (applied.length > 0) logger.info({ migrations: applied }, 'Applied migrations');
  if (!(await redisAnswers(config.redis.url))) {
    logger.warn(
      `Redis is unreachable at ${redactRedisUrl(config.redis.url)}; starting anyway (sends wait in ` +
        'Postgres until it is back). Start it with: redis-server --daemonize yes, or set REDIS_URL.',
    );
  }
  if (config.twilio.usingDevCredentials) {
    logger.info(
      {
        accountSid: config.twilio.accountSid,
        adminEmail: config.admin.email,
        adminPasswordIsDefault: config.admin.password === DEV_ADMIN_PASSWORD,
      },
      'Development credentials in use (refused in production); see .env.example to change them',
    );
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const client = createRedisConnection({ url, name: 'startup-probe' }, SILENT);
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('error', reject);
    });
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
