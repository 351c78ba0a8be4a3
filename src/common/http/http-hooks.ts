import type { FastifyInstance } from 'fastify';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-code';
import { refuse } from './input-limits';
import { REQUEST_ID_HEADER } from './request-id';
import { requestLogFields } from './request-log';

/** What the hooks need from the metrics module's HttpMetricsService (common imports no module). */
export interface RequestObserver {
  observe(method: string, route: string | undefined, status: number, seconds: number): void;
}

/**
 * Fastify-level hooks, so that every answer — 404s and body-parser errors included — returns
 * its request id, is timed by route pattern and gets exactly one log line (with what its
 * handler added: request-log.ts).
 */
export function registerHttpHooks(fastify: FastifyInstance, metrics: RequestObserver): void {
  let draining = false;
  fastify.addHook('preClose', (done) => {
    draining = true;
    done();
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  // A request that was in flight when shutdown began would leave its keep-alive socket open,
  // and server.close() would wait for the client's idle timeout: ask the client to close it.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) void reply.header('connection', 'close');
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    const seconds = reply.elapsedTime / 1000;
    metrics.observe(request.method, route, reply.statusCode, seconds);
    request.log.info(
      {
        method: request.method,
        route: route ?? null,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        ...requestLogFields(request),
      },
      'request completed',
    );
    done();
  });
}

// Probes and scrapes use plain HTTP inside the cluster. Only those: /api/v1/health/details
// carries an admin's token, which must never travel in clear.
const PLAIN_HTTP_ALLOWED = new Set([
  '/api/v1/health',
  '/api/v1/health/live',
  '/api/v1/health/ready',
  '/metrics',
]);

/**
 * HTTPS enforcement (production: the scheme comes from X-Forwarded-Proto when TRUST_PROXY is
 * set), answered in the error shape before any handler runs. Body limits are per route
 * (input-limits.ts).
 */
export function registerSecurityHooks(
  fastify: FastifyInstance,
  options: { enforceHttps: boolean },
): void {
  if (!options.enforceHttps) return;
  fastify.addHook('onRequest', (request, reply, done) => {
    const path = request.url.split('?')[0];
    if (request.protocol !== 'https' && !PLAIN_HTTP_ALLOWED.has(path)) {
      refuse(request, reply, new AppException(ErrorCode.HttpsRequired, 'Use HTTPS.'));
      return;
    }
    done();
  });
}
