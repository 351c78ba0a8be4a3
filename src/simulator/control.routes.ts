import type { FastifyInstance } from 'fastify';
import { deliverWebhook } from './callback-delivery';
import { mergeSimConfig, SimConfigError } from './sim-config';
import type { SimContext } from './sim-context';
import { newIdempotencyToken, newSid } from './sim-store';
import { API_VERSION } from './twilio-shapes';

const E164 = /^\+[1-9]\d{6,14}$/;
const INBOUND_PATH = '/api/v1/whatsapp/webhook';

interface InboundRequest {
  from?: unknown;
  body?: unknown;
  to?: unknown;
  mediaUrl?: unknown;
  profileName?: unknown;
  /** The inbound webhook URL as configured in the console (default PUBLIC_BASE_URL + path). */
  url?: unknown;
}

/** The simulator's control API (README, "Twilio: the simulator and the real thing"; no auth; never in production). */
export function registerControlApi(app: FastifyInstance, ctx: SimContext): void {
  app.get('/__sim/config', () => ctx.config);

  app.post('/__sim/config', (request, reply) => {
    try {
      ctx.config = mergeSimConfig(ctx.config, request.body);
      return ctx.config;
    } catch (error) {
      if (!(error instanceof SimConfigError)) throw error;
      return reply.code(400).send({ error: 'invalid config', message: error.message });
    }
  });

  app.get('/__sim/messages', () => ({
    messages: ctx.store.truth().map((message) => ({
      sid: message.sid,
      mid: message.mid,
      to: message.to,
      from: message.from,
      body: 'body' in message ? message.body : null,
      contentSid: 'contentSid' in message ? message.contentSid : null,
      status: message.status,
      errorCode: message.errorCode,
      createdAt: message.createdAt.toISOString(),
      droppedCallbacks: message.droppedCallbacks,
    })),
    creates: ctx.store.createCounts(),
  }));

  app.get('/__sim/stats', () => ({
    memory: memoryNow(),
    messages: ctx.store.size,
    createCalls: ctx.store.createCalls,
    callbacks: ctx.store.callbacks,
  }));

  app.post('/__sim/reset', (_request, reply) => {
    ctx.store.reset();
    ctx.config = structuredClone(ctx.options.config);
    return reply.code(204).send();
  });

  app.post<{ Body: InboundRequest }>('/__sim/inbound', async (request, reply) => {
    const input = request.body ?? {};
    const problem = inboundProblem(input);
    if (problem) return reply.code(400).send({ error: 'invalid inbound', message: problem });
    const from = whatsapp(input.from as string);
    const to = typeof input.to === 'string' ? whatsapp(input.to) : ctx.options.defaultTo;
    const mediaUrls = input.mediaUrl === undefined ? [] : [input.mediaUrl].flat().map(String);
    const sid = newSid(mediaUrls.length > 0 ? 'MM' : 'SM');
    const params: Record<string, string> = {
      AccountSid: ctx.options.accountSid,
      ApiVersion: API_VERSION,
      Body: typeof input.body === 'string' ? input.body : '',
      From: from,
      MessageSid: sid,
      NumMedia: String(mediaUrls.length),
      NumSegments: '1',
      ProfileName: typeof input.profileName === 'string' ? input.profileName : 'Simulated User',
      SmsMessageSid: sid,
      SmsSid: sid,
      SmsStatus: 'received',
      To: to,
      WaId: from.replace(/^whatsapp:\+/, ''),
    };
    mediaUrls.forEach((url, index) => {
      params[`MediaUrl${index}`] = url;
      params[`MediaContentType${index}`] = contentTypeOf(url);
    });
    const url =
      typeof input.url === 'string' ? input.url : `${ctx.options.publicBaseUrl}${INBOUND_PATH}`;
    const result = await deliverWebhook({
      concurrency: ctx.config.callbackConcurrency,
      url,
      deliverTo: ctx.options.deliverTo,
      authToken: ctx.options.authToken,
      params,
      idempotencyToken: newIdempotencyToken(),
    });
    return {
      messageSid: sid,
      webhookStatus: result.status,
      ...(result.error ? { error: result.error } : {}),
    };
  });
}

function inboundProblem(input: InboundRequest): string | null {
  if (typeof input.from !== 'string' || !E164.test(input.from.replace(/^whatsapp:/, ''))) {
    return 'from: expected +E164 or whatsapp:+E164';
  }
  if (
    input.to !== undefined &&
    (typeof input.to !== 'string' || !E164.test(input.to.replace(/^whatsapp:/, '')))
  ) {
    return 'to: expected +E164 or whatsapp:+E164';
  }
  if (input.body !== undefined && typeof input.body !== 'string') return 'body: expected a string';
  if (input.mediaUrl !== undefined) {
    const urls = [input.mediaUrl].flat();
    if (
      urls.length > 10 ||
      !urls.every((url) => typeof url === 'string' && /^https?:\/\//.test(url))
    ) {
      return 'mediaUrl: expected up to 10 http(s) URLs';
    }
  }
  return null;
}

function whatsapp(address: string): string {
  return address.startsWith('whatsapp:') ? address : `whatsapp:${address}`;
}

function contentTypeOf(url: string): string {
  const extension = /\.([a-z0-9]+)(?:\?|$)/i.exec(url)?.[1]?.toLowerCase();
  const types: Record<string, string> = {
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    png: 'image/png',
    pdf: 'application/pdf',
    mp4: 'video/mp4',
    ogg: 'audio/ogg',
  };
  return types[extension ?? ''] ?? 'application/octet-stream';
}

/**
 * The simulator's memory in MB: resident, and the V8 heap in use — after a full collection when
 * the process runs with --expose-gc (npm run bench:sim-soak does), so it is what is kept, not
 * garbage waiting for a collection.
 */
function memoryNow(): { rssMb: number; heapUsedMb: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  return { rssMb: mb(usage.rss), heapUsedMb: mb(usage.heapUsed) };
}
