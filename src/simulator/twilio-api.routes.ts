import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { firstValue } from './form';
import { runLifecycle } from './message-lifecycle';
import type { SimContext } from './sim-context';
import { newSid, type SimMessage } from './sim-store';
import type { FormParams } from './twilio-signature';
import { API_VERSION, errorBody, MAGIC_NUMBERS, messageJson } from './twilio-shapes';

const BASE = `/${API_VERSION}/Accounts/:accountSid`;
const MAX_PAGE_SIZE = 1000;

interface AccountParams {
  accountSid: string;
}

/** The slice of Twilio's REST API the app uses: Messages create, fetch and list. */
export function registerTwilioApi(app: FastifyInstance, ctx: SimContext): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.url.startsWith(`/${API_VERSION}/`)) return done();
    if (!authorized(ctx, request)) {
      void reply.code(401).send(errorBody(401, 20003, 'Authenticate'));
      return;
    }
    // A slow API (apiDelayMs): the answer, whatever it is, comes that much later.
    if (ctx.config.apiDelayMs > 0) setTimeout(done, ctx.config.apiDelayMs);
    else done();
  });

  app.post<{ Params: AccountParams; Body: FormParams }>(`${BASE}/Messages.json`, (request, reply) =>
    createMessage(ctx, request.params.accountSid, request.body ?? {}, reply),
  );

  app.get<{ Params: AccountParams & { file: string } }>(
    `${BASE}/Messages/:file`,
    (request, reply) => {
      const sid = request.params.file.replace(/\.json$/, '');
      const message = ctx.store.get(sid);
      if (!message || message.accountSid !== request.params.accountSid) {
        return reply
          .code(404)
          .send(errorBody(404, 20404, `The requested resource ${request.url} was not found`));
      }
      return messageJson(message);
    },
  );

  app.get<{ Params: AccountParams; Querystring: Record<string, string> }>(
    `${BASE}/Messages.json`,
    (request) => listMessages(ctx, request.params.accountSid, request.query, request.url),
  );
}

function authorized(ctx: SimContext, request: FastifyRequest): boolean {
  const header = request.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  const given = Buffer.from(header.slice(6), 'base64');
  const wanted = Buffer.from(`${ctx.options.accountSid}:${ctx.options.authToken}`);
  const pathAccount = request.url.split('/')[3];
  return (
    given.length === wanted.length &&
    timingSafeEqual(given, wanted) &&
    pathAccount === ctx.options.accountSid
  );
}

function createMessage(
  ctx: SimContext,
  accountSid: string,
  params: FormParams,
  reply: FastifyReply,
) {
  const to = firstValue(params.To);
  const statusCallback = firstValue(params.StatusCallback) ?? null;
  // Every call counts for its mid, before anything can refuse it: `count` is "attempted".
  ctx.store.recordCreateCall(statusCallback ? midOf(statusCallback) : null, to || null);
  ctx.store.createCalls += 1;
  const burst = ctx.config.burst429;
  if (burst.every > 0 && ctx.store.createCalls % burst.every === 0) {
    return reply
      .code(429)
      .header('retry-after', String(burst.retryAfterS))
      .send(errorBody(429, 20429, 'Too Many Requests'));
  }
  const from = firstValue(params.From);
  const messagingServiceSid = firstValue(params.MessagingServiceSid);
  const body = firstValue(params.Body);
  const mediaUrls = [params.MediaUrl ?? []].flat();
  const contentSid = firstValue(params.ContentSid);
  const invalid = (code: number, text: string) => reply.code(400).send(errorBody(400, code, text));
  if (!to) return invalid(21604, "A 'To' phone number is required.");
  if (!from && !messagingServiceSid) return invalid(21603, "A 'From' phone number is required.");
  if (!body && mediaUrls.length === 0 && !contentSid)
    return invalid(21602, 'Message body is required.');
  if (body && body.length > 1600) {
    return invalid(21617, 'The concatenated message body exceeds the 1600 character limit.');
  }
  const magic = MAGIC_NUMBERS[to.replace(/^whatsapp:/, '')];
  if (magic) return invalid(magic.code, magic.message);

  const now = new Date();
  const message: SimMessage = {
    sid: newSid('SM'),
    mid: statusCallback ? midOf(statusCallback) : null,
    accountSid,
    to,
    // With a messaging service Twilio picks the sender; the simulator reports the sandbox one.
    from: from ?? 'whatsapp:+14155238886',
    body: body ?? null,
    mediaUrls,
    contentSid: contentSid ?? null,
    contentVariables: firstValue(params.ContentVariables) ?? null,
    messagingServiceSid: messagingServiceSid ?? null,
    statusCallback,
    status: messagingServiceSid ? 'accepted' : 'queued',
    errorCode: null,
    errorMessage: null,
    createdAt: now,
    sentAt: null,
    updatedAt: now,
    droppedCallbacks: 0,
  };
  ctx.store.add(message);
  // The answer shows the initial status, whatever the life below does in the meantime.
  const answer = messageJson(message);
  runLifecycle(ctx, message);
  if (ctx.random() < ctx.config.fiveXxAfterAcceptRate) {
    // The double-send trap: the message exists and will be delivered, but the client sees a 500.
    return reply.code(500).send(errorBody(500, 20500, 'Internal Server Error'));
  }
  return reply.code(201).send(answer);
}

function midOf(statusCallback: string): string | null {
  try {
    return new URL(statusCallback).searchParams.get('mid');
  } catch {
    return null;
  }
}

function listMessages(
  ctx: SimContext,
  accountSid: string,
  query: Record<string, string>,
  url: string,
) {
  const pageSize = Math.min(Math.max(Number(query.PageSize) || 50, 1), MAX_PAGE_SIZE);
  const page = Math.max(Number(query.Page) || 0, 0);
  const matching = ctx.store
    .all()
    .filter((message) => message.accountSid === accountSid && matches(message, query))
    .reverse();
  const items = matching.slice(page * pageSize, (page + 1) * pageSize);
  const path = url.split('?')[0];
  const pageUri = (n: number): string => {
    const search = new URLSearchParams(query);
    search.set('PageSize', String(pageSize));
    search.set('Page', String(n));
    return `${path}?${search.toString()}`;
  };
  const hasNext = (page + 1) * pageSize < matching.length;
  return {
    messages: items.map(messageJson),
    start: page * pageSize,
    end: page * pageSize + Math.max(items.length - 1, 0),
    page,
    page_size: pageSize,
    uri: pageUri(page),
    first_page_uri: pageUri(0),
    next_page_uri: hasNext ? pageUri(page + 1) : null,
    previous_page_uri: page > 0 ? pageUri(page - 1) : null,
  };
}

// DateSent filters use the sent time, or the creation time of a message not sent yet.
function matches(message: SimMessage, query: Record<string, string>): boolean {
  if (query.To && message.to !== query.To) return false;
  if (query.From && message.from !== query.From) return false;
  const sent = (message.sentAt ?? message.createdAt).getTime();
  const after = query['DateSent>'] ? Date.parse(query['DateSent>']) : NaN;
  const before = query['DateSent<'] ? Date.parse(query['DateSent<']) : NaN;
  if (!Number.isNaN(after) && sent < after) return false;
  if (!Number.isNaN(before) && sent > before) return false;
  if (query.DateSent) {
    const day = new Date(sent).toISOString().slice(0, 10);
    if (day !== query.DateSent.slice(0, 10)) return false;
  }
  return true;
}
