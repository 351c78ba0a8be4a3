// node dist/bench/chaos/services-check.js — checks services.ts end to end: a private PostgreSQL
// survives an immediate restart with its data, a private Redis comes back empty, and cleanupAll()
// leaves no process and no temp dir. Prints OK with timings; exit 1 on failure.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { cleanupAll, startPrivatePostgres, startPrivateRedis } from './services';

const timings: Record<string, number> = {};

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await work();
  timings[name] = Date.now() - started;
  return result;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function sql(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: 10_000,
    query_timeout: 10_000,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(text, values)).rows;
  } finally {
    await client.end();
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function main(): Promise<void> {
  const pg = await timed('postgresStartTotal', () => startPrivatePostgres());
  timings.initdb = pg.startup.initdbMs;
  timings.postgresStart = pg.startup.startMs;
  const redis = await timed('redisStart', () => startPrivateRedis());
  check(pg.port !== 5432 && redis.port !== 6379, 'a private server took a shared port');

  await sql(pg.url, 'CREATE TABLE chaos_check (id int PRIMARY KEY, note text NOT NULL)');
  await sql(pg.url, 'INSERT INTO chaos_check VALUES (1, $1)', ['survives']);
  const before = await pg.startTime();
  await timed('postgresRestartImmediate', () => pg.restartImmediate());
  const after = await pg.startTime();
  check(after !== before, `pg_postmaster_start_time did not move (${before})`);
  const rows = await sql(pg.url, 'SELECT note FROM chaos_check WHERE id = 1');
  check(
    JSON.stringify(rows) === JSON.stringify([{ note: 'survives' }]),
    `the row did not survive the restart: ${JSON.stringify(rows)}`,
  );

  const client = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  client.on('error', () => undefined);
  await client.connect();
  await client.set('chaos:check', '1');
  client.disconnect();
  check((await redis.dbsize()) === 1, 'DBSIZE is not 1 after SET');
  await timed('redisRestartEmpty', () => redis.restartEmpty());
  const size = await redis.dbsize();
  check(size === 0, `DBSIZE is ${size} after restartEmpty`);

  await timed('cleanup', () => cleanupAll());
  check(!existsSync(pg.dir) && !existsSync(redis.dir), 'a temp dir is still there');
  check(await portFree(pg.port), `port ${pg.port} (PostgreSQL) is still taken`);
  check(await portFree(redis.port), `port ${redis.port} (Redis) is still taken`);
  const left = spawnSync('pgrep', ['-af', pg.dir], { encoding: 'utf8' }).stdout.trim();
  check(left === '', `processes left: ${left}`);

  const line = Object.entries(timings)
    .map(([name, ms]) => `${name}=${ms}ms`)
    .join(' ');
  process.stdout.write(`OK ${line} (postgres ${after}, ports ${pg.port}/${redis.port})\n`);
}

main().catch(async (error: unknown) => {
  process.stderr.write(`FAILED ${error instanceof Error ? error.stack : String(error)}\n`);
  await cleanupAll({ failed: true }).catch((cleanupError: unknown) =>
    process.stderr.write(`${String(cleanupError)}\n`),
  );
  process.exit(1);
});
