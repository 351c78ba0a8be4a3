import { randomUUID } from 'node:crypto';
import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { reportError } from '../error-tracking/error-tracking';
import { mapError } from './error-response';

/**
 * One filter for everything thrown: the HTTP contract's error shape (docs/api.md §2),
 * and an errorId for every 500.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const mapped = mapError(exception);
    const body: Record<string, unknown> = { ...mapped.body, requestId: String(request.id) };
    if (mapped.internal) {
      const errorId = randomUUID();
      body.errorId = errorId;
      this.logger.error({ err: exception, errorId, requestId: request.id }, 'Unhandled error');
      reportError(exception, { requestId: String(request.id), errorId });
    }
    if (reply.sent) return;
    // A route may have set another content type (the webhooks' text/xml) before it threw.
    void reply
      .status(mapped.body.statusCode)
      .headers(mapped.headers)
      .header('content-type', 'application/json; charset=utf-8')
      .send(body);
  }
}
