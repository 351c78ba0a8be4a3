import type { FastifyInstance } from 'fastify';
import type { HttpMetricsService } from '../../modules/metrics/http-metrics.service';
import { REQUEST_ID_HEADER } from './request-id';

/**
 * Fastify-level hooks, so that every answer — 404s and body-parser errors included — returns
 * its request id, is timed by route pattern and gets exactly one log line.
 */
export function registerHttpHooks(fastify: FastifyInstance, metrics: HttpMetricsService): void {
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
      },
      'request completed',
    );
    done();
  });
}
