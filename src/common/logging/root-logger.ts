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
    // children (nestjs-pino, Fastify's request loggers) inherit these serializers.
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

/** JSON lines; pretty only for a person at a development terminal (pino-pretty is a dev dependency). */
export function createRootLogger(config: AppConfig): Logger {
  const pretty = config.nodeEnv === 'development' && process.stdout.isTTY && hasPinoPretty();
  return pino(rootLoggerOptions(config, pretty));
}

function hasPinoPretty(): boolean {
  try {
    require.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
