import { setTimeout as sleep } from 'node:timers/promises';
import { deliverWebhook } from './callback-delivery';
import { planLifecycle, type PlannedEvent } from './lifecycle';
import type { SimContext } from './sim-context';
import { newIdempotencyToken, type SimMessage } from './sim-store';
import { ERROR_MESSAGES, statusCallbackParams } from './twilio-shapes';

type Action = { atMs: number; event: PlannedEvent; callback: boolean };

/**
 * Moves an accepted message through its planned life and posts its status callbacks, one
 * action at a time in time order, so the order a receiver sees is exactly the planned one
 * (in order, or reversed when the plan reorders). A reset aborts every running life.
 */
export function runLifecycle(ctx: SimContext, message: SimMessage): void {
  const actions: Action[] = [];
  const stats = ctx.store.callbacks;
  for (const event of planLifecycle(ctx.config, ctx.random)) {
    actions.push({ atMs: event.atMs, event, callback: false });
    if (message.statusCallback === null) continue;
    if (event.callbackAtMs.length === 0) {
      stats.dropped += 1;
      message.droppedCallbacks += 1;
    }
    stats.duplicated += Math.max(0, event.callbackAtMs.length - 1);
    stats.planned += event.callbackAtMs.length;
    for (const atMs of event.callbackAtMs) actions.push({ atMs, event, callback: true });
  }
  // Stable sort: at the same instant the status changes before its callback leaves.
  actions.sort((a, b) => a.atMs - b.atMs);
  const signal = ctx.store.signal;
  ctx.store.track(run(ctx, message, actions, signal));
}

async function run(
  ctx: SimContext,
  message: SimMessage,
  actions: Action[],
  signal: AbortSignal,
): Promise<void> {
  const started = Date.now();
  for (const action of actions) {
    const wait = action.atMs - (Date.now() - started);
    try {
      if (wait > 0) await sleep(wait, undefined, { signal });
    } catch {
      return; // reset
    }
    if (signal.aborted) return;
    if (action.callback) await postCallback(ctx, message, action.event);
    else applyTruth(message, action.event);
  }
}

function applyTruth(message: SimMessage, event: PlannedEvent): void {
  const now = new Date();
  message.status = event.status;
  message.updatedAt = now;
  if (event.status === 'sent') message.sentAt = now;
  if (event.errorCode !== null) {
    message.errorCode = event.errorCode;
    message.errorMessage = ERROR_MESSAGES[event.errorCode] ?? 'Message delivery failed.';
  }
}

async function postCallback(
  ctx: SimContext,
  message: SimMessage,
  event: PlannedEvent,
): Promise<void> {
  if (message.statusCallback === null) return;
  // Each copy of an event (a duplicate too) has its own token: the app must dedupe on the event
  // itself, not only on the token; a retry of one copy repeats its token.
  const stats = ctx.store.callbacks;
  stats.sent += 1;
  const result = await deliverWebhook({
    url: message.statusCallback,
    deliverTo: ctx.options.deliverTo,
    authToken: ctx.options.authToken,
    params: statusCallbackParams(message, event.status, event.errorCode),
    idempotencyToken: newIdempotencyToken(),
    concurrency: ctx.config.callbackConcurrency,
  });
  stats.attempts += result.attempts;
  const entry = {
    sid: message.sid,
    status: event.status,
    httpStatus: result.status,
    attempts: result.attempts,
  };
  if (result.failure === null) {
    stats.answered += 1;
    ctx.log(entry, 'status callback delivered');
  } else {
    // Twilio does not send it again: the app hears of this status only from a fetch.
    stats.failed[result.failure] += 1;
    ctx.log(
      { ...entry, reason: result.failure, ...(result.error ? { error: result.error } : {}) },
      'status callback failed',
    );
  }
}
