import { randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { pino, type Logger } from 'pino';
import { register } from 'prom-client';
import { createApp } from '../../src/app.factory';
import type { AppConfig } from '../../src/config/app-config';
import type { Env } from '../../src/config/env-reader';
import { loadConfig } from '../../src/config/load-config';
import { deleteRedisKeys, REDIS_URL, testDatabaseUrl } from './test-env';

// Each test file loads this module afresh (Jest isolates modules per file), so each file gets
// its own Redis key prefix and BullMQ prefix and never takes another file's data or jobs.
const FILE_PREFIX = `t${randomBytes(4).toString('hex')}`;
let appCount = 0;
let building: Promise<void> = Promise.resolve();

export function testConfig(env: Env = {}): AppConfig {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: testDatabaseUrl(),
    REDIS_URL,
    LOG_LEVEL: 'silent',
    TEST_ERROR_ROUTE: 'on',
    // Tests read far faster than a client may; test/e2e/read-limits.e2e-spec.ts sets its own.
    READ_RATE_LIMIT: '100000',
    ...env,
  });
  appCount += 1;
  if (env.REDIS_PREFIX === undefined) {
    config.redis.keyPrefix = `${FILE_PREFIX}-${appCount}:`;
    config.redis.queuePrefix = `${FILE_PREFIX}-${appCount}-bull`;
  }
  // Fast retries and sweeps, so outage tests take seconds, not the production minutes.
  Object.assign(config.sending, {
    retryBaseMs: 200,
    retryMaxMs: 2_000,
    dispatchStaleMs: 3_000,
    sweepEveryMs: 500,
    sweepGraceMs: 1_000,
  });
  // Every app of the run shares one database: heartbeats and catch-up windows would be the whole
  // run's, and one app's catch-up would look at other files' messages. The catch-up tests turn it on
  // (on a database of their own).
  config.delivery.catchUp = false;
  return config;
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  close(): Promise<void>;
}

export async function startTestApp(
  env: Env = {},
  config = testConfig(env),
  logger: Logger = pino({ level: 'silent' }),
): Promise<TestApp> {
  // prom-client's default registry is process-wide: apps of one file are built one at a time,
  // each on a cleared registry (production runs one app per process).
  const previous = building;
  let release: () => void = () => undefined;
  building = new Promise<void>((resolve) => (release = resolve));
  await previous;
  let app: NestFastifyApplication;
  try {
    register.clear();
    app = await createApp(config, logger);
  } finally {
    release();
  }
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    config,
    close: async () => {
      await app.close();
      await deleteRedisKeys(config.redis.keyPrefix);
      await deleteRedisKeys(config.redis.queuePrefix);
    },
  };
}
