import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { WebhookMetricsService } from './webhook-metrics.service';
import { replayKey, WebhookReplay } from './webhook-replay';

function request(headers: Record<string, string>, body: Record<string, string>): FastifyRequest {
  return {
    headers,
    body,
    url: '/api/v1/whatsapp/status?mid=m1',
    routeOptions: { url: '/api/v1/whatsapp/status' },
  } as unknown as FastifyRequest;
}

function setup(redis: Partial<Record<'exists' | 'set', jest.Mock>>) {
  const metrics = { count: jest.fn() };
  const replay = new WebhookReplay(
    redis as unknown as Redis,
    metrics as unknown as WebhookMetricsService,
  );
  const handler = jest.fn(() => Promise.resolve());
  return { replay, metrics, handler };
}

const REQ = request({ 'i-twilio-idempotency-token': 'tok-1' }, { MessageStatus: 'sent' });

describe('WebhookReplay', () => {
  it('should answer a remembered webhook without calling the handler, and count a duplicate', async () => {
    const { replay, metrics, handler } = setup({ exists: jest.fn().mockResolvedValue(1) });
    await replay.once(REQ, handler);
    expect(handler).not.toHaveBeenCalled();
    expect(metrics.count).toHaveBeenCalledWith('status', 'duplicate');
  });

  it('should mark a webhook only after its handler succeeded', async () => {
    const set = jest.fn().mockResolvedValue('OK');
    const { replay, handler } = setup({ exists: jest.fn().mockResolvedValue(0), set });
    await replay.once(REQ, handler);
    expect(handler).toHaveBeenCalledTimes(1);
    expect(set).toHaveBeenCalledWith(replayKey('status', REQ), '1', 'PX', expect.any(Number));
  });

  it('should not mark a webhook whose handler failed', async () => {
    const set = jest.fn().mockResolvedValue('OK');
    const { replay } = setup({ exists: jest.fn().mockResolvedValue(0), set });
    await expect(replay.once(REQ, () => Promise.reject(new Error('503')))).rejects.toThrow('503');
    expect(set).not.toHaveBeenCalled();
  });

  it('should fall through to the database when Redis fails', async () => {
    const set = jest.fn().mockRejectedValue(new Error('down'));
    const { replay, handler } = setup({
      exists: jest.fn().mockRejectedValue(new Error('Connection is closed.')),
      set,
    });
    await replay.once(REQ, handler);
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('should fall through when Redis does not answer in time', async () => {
    const { replay, handler } = setup({
      exists: jest.fn(() => new Promise(() => undefined)),
      set: jest.fn().mockResolvedValue('OK'),
    });
    await replay.once(REQ, handler);
    expect(handler).toHaveBeenCalledTimes(1);
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
