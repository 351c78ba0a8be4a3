import { parse as parseQueryString } from 'fast-querystring';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-code';
import { mapError } from '../errors/error-response';
import {
  countFormFields,
  hasLoneSurrogate,
  jsonShapeProblem,
  MAX_FORM_FIELDS,
  MAX_QUERY_PARAMS,
} from './input-shape';

/** Login and token exchange: an email and a password, or an API key. */
export const AUTH_BODY_LIMIT_BYTES = 4 * 1024;
/** Twilio's webhooks are small forms (an inbound message with ten media is ~3 KB). */
export const WEBHOOK_BODY_LIMIT_BYTES = 64 * 1024;
/**
 * Every other JSON route. The largest legitimate request is a send: 1,600 characters of text
 * (9.6 KB even if every one is \u-escaped), ten 2,048-character media URLs (20 KB) and 4 KB of
 * metadata — or a template with 16 KB of contentVariables.
 */
export const JSON_BODY_LIMIT_BYTES = 64 * 1024;

export const WEBHOOK_ROUTES: ReadonlySet<string> = new Set([
  '/api/v1/whatsapp/webhook',
  '/api/v1/whatsapp/status',
]);
const AUTH_ROUTE_PREFIX = '/api/v1/auth/';
const FORM = 'application/x-www-form-urlencoded';

/** The body limit of a route pattern (what Fastify matched, never the raw URL). */
export function bodyLimitFor(routeUrl: string): number {
  if (routeUrl.startsWith(AUTH_ROUTE_PREFIX)) return AUTH_BODY_LIMIT_BYTES;
  if (WEBHOOK_ROUTES.has(routeUrl)) return WEBHOOK_BODY_LIMIT_BYTES;
  return JSON_BODY_LIMIT_BYTES;
}

/**
 * Bounds every request before it costs anything: per-route body limits that Fastify enforces on
 * the bytes actually read (chunked bodies included) for the route it matched (so an encoded
 * path such as /api/v1/whatsapp/%77ebhook gets the webhook's limit), JSON depth and key caps
 * checked before parsing, a field cap on forms and query strings, and form-only webhooks.
 * Must run before the routes are registered (before app.init()).
 */
export function registerInputLimits(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const url = route.url ?? route.path ?? '';
    route.bodyLimit = Math.min(route.bodyLimit ?? Infinity, bodyLimitFor(url));
  });

  fastify.removeAllContentTypeParsers();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: JSON_BODY_LIMIT_BYTES },
    (request, body, done) => {
      const problem = jsonShapeProblem(body as string);
      if (problem !== null) {
        done(new AppException(ErrorCode.ValidationFailed, problem), undefined);
        return;
      }
      void parseJson(request, body as string, (error, parsed) => {
        if (error) done(error, undefined);
        else if (hasLoneSurrogate(body as string, parsed)) {
          done(
            new AppException(
              ErrorCode.ValidationFailed,
              'JSON strings must be valid Unicode (a lone \\uD800–\\uDFFF escape is not).',
            ),
            undefined,
          );
        } else done(null, parsed);
      });
    },
  );
  fastify.addContentTypeParser(
    FORM,
    { parseAs: 'string', bodyLimit: JSON_BODY_LIMIT_BYTES },
    (_request, body, done) => {
      const text = body as string;
      if (countFormFields(text) > MAX_FORM_FIELDS) {
        done(
          new AppException(
            ErrorCode.ValidationFailed,
            `A form may hold at most ${MAX_FORM_FIELDS} fields.`,
          ),
          undefined,
        );
        return;
      }
      done(null, parseQueryString(text));
    },
  );

  fastify.addHook('onRequest', (request, reply, done) => {
    const query = queryStringOf(request.url);
    if (query !== '' && countFormFields(query) > MAX_QUERY_PARAMS) {
      refuse(
        request,
        reply,
        new AppException(
          ErrorCode.ValidationFailed,
          `A query string may hold at most ${MAX_QUERY_PARAMS} parameters.`,
        ),
      );
      return;
    }
    const route = request.routeOptions.url;
    if (route !== undefined && WEBHOOK_ROUTES.has(route) && !isForm(request)) {
      refuse(
        request,
        reply,
        new AppException(
          ErrorCode.UnsupportedMediaType,
          `Twilio webhooks are ${FORM}; nothing else is accepted.`,
        ),
      );
      return;
    }
    done();
  });
}

function queryStringOf(url: string): string {
  const mark = url.indexOf('?');
  return mark === -1 ? '' : url.slice(mark + 1);
}

function isForm(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  if (typeof type !== 'string') return false;
  return type.split(';')[0].trim().toLowerCase() === FORM;
}

/** Answers in the error shape from a hook, before any handler, guard or parser runs. */
export function refuse(request: FastifyRequest, reply: FastifyReply, error: AppException): void {
  const { body, headers } = mapError(error);
  void reply
    .code(body.statusCode)
    .headers(headers)
    .send({ ...body, requestId: String(request.id) });
}
