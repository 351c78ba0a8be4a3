import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';
import { closeErrorTracking } from '../common/error-tracking/error-tracking';

/**
 * SIGTERM/SIGINT: stop taking requests, let in-flight requests and jobs finish, close Postgres
 * and Redis, exit 0. Bounded by SHUTDOWN_TIMEOUT_MS: past it the process exits 1, because a
 * hung shutdown would otherwise only end with Kubernetes' SIGKILL.
 */
export function installGracefulShutdown(
  app: INestApplication,
  timeoutMs: number,
  logger: Logger,
  /** Closed after the app (the in-process simulator in development). */
  afterApp: (() => Promise<void>) | undefined = undefined,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    logger.info({ signal, timeoutMs }, 'Shutting down: draining requests and jobs');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'Shutdown timed out; exiting with work still in flight');
      exit(1);
    }, timeoutMs);
    timer.unref();
    const close = async (): Promise<void> => {
      await app.close();
      await afterApp?.();
      await closeErrorTracking(2_000);
    };
    close().then(
      () => {
        clearTimeout(timer);
        logger.info('Shutdown complete');
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(timer);
        logger.error({ err: error }, 'Shutdown failed');
        exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
