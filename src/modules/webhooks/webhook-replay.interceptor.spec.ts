import type { CallHandler, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { lastValueFrom, of } from 'rxjs';
import type { WebhookMetricsService } from './webhook-metrics.service';
import { replayKey, WebhookReplayInterceptor } from './webhook-replay.interceptor';

function request(headers: Record<string, string>, body: Record<string, string>): FastifyRequest {
  return {
    headers,
    body,
    url: '/api/v1/whatsapp/status?mid=m1',
    routeOptions: { url: '/api/v1/whatsapp/status' },
  } as unknown as FastifyRequest;
}

function contextFor(req: FastifyRequest): ExecutionContext {
  return {
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
}

function setup(redis: Partial<Record<'exists' | 'set', jest.Mock>>) {
  const metrics = { count: jest.fn() };
  const interceptor = new WebhookReplayInterceptor(
    redis as unknown as Redis,
    metrics as unknown as WebhookMetricsService,
  );
  const handler = { handle: jest.fn(() => of('handled')) } as CallHandler<string> & {
    handle: jest.Mock;
  };
  return { interceptor, metrics, handler };
}

const REQ = request({ 'i-twilio-idempotency-token': 'tok-1' }, { MessageStatus: 'sent' });

describe('WebhookReplayInterceptor', () => {
  it('should answer a remembered webhook without calling the handler, and count a duplicate', async () => {
    const { interceptor, metrics, handler } = setup({ exists: jest.fn().mockResolvedValue(1) });
    const answer = await lastValueFrom(interceptor.intercept(contextFor(REQ), handler));
    expect(answer).toMatch(/<Response\/>/);
    expect(handler.handle).not.toHaveBeenCalled();
    expect(metrics.count).toHaveBeenCalledWith('status', 'duplicate');
  });

  it('should mark a webhook only after its handler succeeded', async () => {
    const set = jest.fn().mockResolvedValue('OK');
    const { interceptor, handler } = setup({ exists: jest.fn().mockResolvedValue(0), set });
    expect(await lastValueFrom(interceptor.intercept(contextFor(REQ), handler))).toBe('handled');
    expect(set).toHaveBeenCalledWith(replayKey('status', REQ), '1', 'PX', expect.any(Number));
  });

  it('should fall through to the database when Redis fails', async () => {
    const set = jest.fn().mockRejectedValue(new Error('down'));
    const { interceptor, handler } = setup({
      exists: jest.fn().mockRejectedValue(new Error('Connection is closed.')),
      set,
    });
    expect(await lastValueFrom(interceptor.intercept(contextFor(REQ), handler))).toBe('handled');
    expect(handler.handle).toHaveBeenCalledTimes(1);
  });

  it('should fall through when Redis does not answer in time', async () => {
    const { interceptor, handler } = setup({
      exists: jest.fn(() => new Promise(() => undefined)),
      set: jest.fn().mockResolvedValue('OK'),
    });
    expect(await lastValueFrom(interceptor.intercept(contextFor(REQ), handler))).toBe('handled');
  });

  it('should key by the idempotency token, else by the exact signed event', () => {
    const a = request({}, { MessageSid: 'SM1', MessageStatus: 'sent' });
    const b = request({}, { MessageStatus: 'sent', MessageSid: 'SM1' });
    const c = request({}, { MessageSid: 'SM1', MessageStatus: 'delivered' });
    expect(replayKey('status', a)).toBe(replayKey('status', b));
    expect(replayKey('status', a)).not.toBe(replayKey('status', c));
    expect(replayKey('status', REQ)).toMatch(/^webhook-replay:status:t:/);
    expect(replayKey('status', REQ)).not.toContain('tok-1');
    expect(replayKey('inbound', REQ)).not.toBe(replayKey('status', REQ));
  });
});
