import type { LoggerService } from '@nestjs/common';
import type { Logger, Level } from 'pino';

/**
 * Nest's Logger calls, written to the root pino logger: `logger.log({ messageId }, 'Sent')`
 * gives one JSON line with the object's fields, the message and `context` (the class name Nest
 * passes last). Errors go under `err`, so the root logger's serializer strips what they may
 * carry. This replaces nestjs-pino: its per-request middleware and AsyncLocalStorage cost more
 * CPU than the log lines themselves, and the one line per request that carries the request id
 * comes from Fastify's request logger (http-hooks.ts); a line about a message carries its
 * message id instead.
 */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    // Nest appends the logger's context (its class name) as the last parameter.
    let rest = params;
    if (params.length > 0) {
      fields.context = params[params.length - 1];
      rest = params.slice(0, -1);
    }
    if (message instanceof Error) {
      fields.err = message;
      this.logger[level](fields, ...(rest as []));
    } else if (typeof message === 'object' && message !== null) {
      this.logger[level](Object.assign(fields, message), ...(rest as []));
    } else if (level === 'error' && rest.length === 1 && typeof rest[0] === 'string') {
      // Nest's own exception handlers call error(message, stack, context).
      const err = new Error(String(message));
      err.stack = rest[0];
      this.logger.error({ ...fields, err });
    } else {
      this.logger[level](fields, String(message), ...(rest as []));
    }
  }
}
