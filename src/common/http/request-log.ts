import type { FastifyRequest } from 'fastify';

const FIELDS = Symbol('requestLogFields');

type Annotated = FastifyRequest & { [FIELDS]?: Record<string, unknown> };

/**
 * Fields for the request's one log line (http-hooks.ts): a handler says what the request did
 * (`messageId`, `outcome`…) on the line that already carries its requestId, route, status and
 * duration, instead of writing a second line.
 */
export function addRequestLogFields(
  request: FastifyRequest,
  fields: Record<string, unknown>,
): void {
  const annotated = request as Annotated;
  annotated[FIELDS] = { ...annotated[FIELDS], ...fields };
}

export function requestLogFields(request: FastifyRequest): Record<string, unknown> | undefined {
  return (request as Annotated)[FIELDS];
}
