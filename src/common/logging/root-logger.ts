import { pino, type Logger, type LoggerOptions } from 'pino';
import type { AppConfig } from '../../config/app-config';
import { serializeError } from './error-serializer';

// Anything that can carry a credential. Request logs carry no headers or bodies at all (see
// http-hooks.ts); this is the net under objects that someone logs by mistake.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-twilio-signature"]',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-twilio-signature"]',
  '*.authorization',
  '*.cookie',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.accessToken',
  '*.apiKey',
  '*.authToken',
  '*.secret',
  '*.signature',
  'password',
  'token',
  'accessToken',
  'apiKey',
  'authToken',
  'secret',
  'signature',
];

export function rootLoggerOptions(config: AppConfig, pretty: boolean): LoggerOptions {
  return {
    level: config.logLevel,
    base: { service: 'whatsapp-backend', role: config.role },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Errors lose query parameters and Postgres' row values here, once for every logger: the
    // children (Nest's Logger, Fastify's request loggers) inherit these serializers.
    serializers: { err: serializeError, error: serializeError },
    formatters: { level: (label) => ({ level: label }) },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l' },
          },
        }
      : {}),
  };
}

/** Log lines are written in chunks of at least this many bytes... */
const LOG_CHUNK_BYTES = 4096;
/** ...or this often, whichever comes first. */
const LOG_FLUSH_MS = 100;

/**
 * JSON lines to stdout; pretty only for a person at a development terminal (pino-pretty is a dev
 * dependency). Lines are buffered: one write per LOG_CHUNK_BYTES or every LOG_FLUSH_MS instead
 * of one per line (a write is a system call; under load one per line cost ~10 % of the api's
 * CPU). pino flushes the buffer synchronously when the process exits, through process.exit and
 * uncaught exceptions too; an abort without an exit event (SIGKILL, V8 out of memory) loses the
 * last ≤ 100 ms.
 */
export function createRootLogger(config: AppConfig): Logger {
  const pretty = config.nodeEnv === 'development' && process.stdout.isTTY && hasPinoPretty();
  if (pretty) return pino(rootLoggerOptions(config, pretty));
  const destination = pino.destination({ dest: 1, sync: false, minLength: LOG_CHUNK_BYTES });
  const logger = pino(rootLoggerOptions(config, pretty), destination);
  setInterval(() => logger.flush(), LOG_FLUSH_MS).unref();
  return logger;
}

function hasPinoPretty(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
