import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-code';
import { mapError } from '../errors/error-response';
import { REQUEST_ID_HEADER } from './request-id';

/**
 * What Fastify answers itself before any hook runs — a URL its router cannot decode (`%zz`) or
 * a path parameter longer than it allows — in the error shape, with a request id, and without
 * echoing the path back.
 */
export function frameworkErrors(
  error: { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'A path parameter is longer than any valid one.'
      : 'The URL is not valid.';
  const { body } = mapError(new AppException(ErrorCode.BadRequest, message));
  void reply
    .code(body.statusCode)
    .header(REQUEST_ID_HEADER, request.id)
    .send({ ...body, requestId: String(request.id) });
}

/**
 * What Node's HTTP parser refuses (a NUL byte or a folded line in a header, headers over the
 * size limit, a malformed request line) never becomes a request; the socket gets one answer in
 * the error shape and is closed, as Node would.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'The request headers are too large.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request took too long to arrive.']
        : [400, 'Bad Request', 'The request could not be parsed.'];
  const requestId = randomUUID();
  const body = JSON.stringify({
    statusCode: status,
    error: reason,
    code: ErrorCode.BadRequest,
    message,
    requestId,
  });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n${REQUEST_ID_HEADER}: ${requestId}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
