import 'reflect-metadata';
import { createApp } from './app.factory';
import { prepareDevelopment } from './bootstrap/development';
import { installGracefulShutdown } from './bootstrap/graceful-shutdown';
import { startSimulatorIfNeeded } from './bootstrap/simulator-bootstrap';
import { closeErrorTracking, reportError } from './common/error-tracking/error-tracking';
import { createRootLogger } from './common/logging/root-logger';
import type { AppConfig } from './config/app-config';
import { configWarnings } from './config/config-warnings';
import { ConfigError, type Env } from './config/env-reader';
import { loadConfig } from './config/load-config';
import { processEnv } from './config/process-env';
import { DatabaseUnreachableError } from './database/database-setup';

/** Connections waiting to be accepted at most (the kernel caps it at net.core.somaxconn). */
const LISTEN_BACKLOG = 4096;

async function main(): Promise<void> {
  const env = processEnv();
  const bootedAt = new Date();
  const config = readConfigOrExit(env, bootedAt);
  const logger = createRootLogger(config);
  for (const warning of configWarnings(config, bootedAt)) logger.warn(warning);
  try {
    if (!config.isProduction) await prepareDevelopment(config, logger);
    const simulator = await startSimulatorIfNeeded(config, env, logger);
    const app = await createApp(config, logger);
    installGracefulShutdown(
      app,
      config.shutdownTimeoutMs,
      logger,
      simulator && (() => simulator.close()),
    );
    // Node's default accept queue (511) overflows when Twilio opens hundreds of connections at
    // once: the kernel drops the handshake's last step, the sender's request waits unseen and its
    // read timeout runs out. The kernel caps this at net.core.somaxconn.
    await app.listen({ port: config.port, host: '0.0.0.0', backlog: LISTEN_BACKLOG });
    const address = app.getHttpAdapter().getInstance().server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    logger.info({ port, role: config.role, env: config.nodeEnv }, 'Listening');
  } catch (error) {
    if (error instanceof DatabaseUnreachableError) {
      logger.fatal(error.message);
    } else {
      logger.fatal({ err: error }, 'Failed to start');
      reportError(error);
    }
    await closeErrorTracking(2_000);
    logger.flush();
    process.exit(1);
  }
}

function readConfigOrExit(env: Env, now: Date): AppConfig {
  try {
    return loadConfig(env, now);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One line per bad variable; values are never printed (they may be secrets).
    process.stderr.write(`${error.lines().join('\n')}\n`);
    process.exit(1);
  }
}

void main();
