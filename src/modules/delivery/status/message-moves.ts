// What every write to a message does, decided in TypeScript on the row as it was locked
// (MessageWriter): the status machine's rules (status-machine.ts) plus the outbox's own — the
// holder rule (only the attempt that holds the row moves it), the takeover and backoff clocks,
// the admin retry's "retryable" condition. Pure: no Nest, no I/O; the SQL that follows only
// stores what these functions return.
import {
  decideOutboxMove,
  decideTransition,
  isFailure,
  outboxMoveTo,
  STAGE_COLUMNS,
  stagesProvedBy,
  type StageColumn,
} from './status-machine';
import type { TwilioAnswer } from '../delivery.types';

/**
 * A point in time as PostgreSQL wrote it (ISO 8601, microseconds): kept as text so a row written
 * back keeps its timestamps exactly; compared through `millisOf`.
 */
export type Timestamp = string;

export function millisOf(at: Timestamp): number {
  return Date.parse(at);
}

/** `at` plus `ms` milliseconds. */
export function plusMillis(at: Timestamp, ms: number): Timestamp {
  return new Date(millisOf(at) + ms).toISOString();
}

function earliest(a: Timestamp | null, b: Timestamp | null): Timestamp | null {
  if (a === null) return b;
  if (b === null) return a;
  return millisOf(b) < millisOf(a) ? b : a;
}

/** The columns of whatsapp_messages that a move may change: the message's state. */
export interface MessageState {
  id: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  twilioSid: string | null;
  errorCode: number | null;
  errorMessage: string | null;
  /** Stage timestamps, set once, by the first event that proves them. */
  stages: Record<StageColumn, Timestamp | null>;
  /** When the current holder claimed the row: the takeover clock. */
  dispatchStartedAt: Timestamp | null;
  /** When an attempt may first have reached Twilio unseen: look before resending. */
  uncertainSince: Timestamp | null;
  /** A retry's backoff: the row is not claimed before (give or take the clock skew below). */
  nextAttemptAt: Timestamp | null;
  /** Whether the last failure may succeed on an operator's retry. */
  lastErrorRetryable: boolean;
  reconciledAt: Timestamp | null;
  /** Until when a reconciler pass holds the row for its look at Twilio (no row lock). */
  reconcileLeaseUntil: Timestamp | null;
  /** The `sequence` of the message's last event (0: none yet). */
  eventSequence: number;
}

/** A worker's or the API's own log row, keyed by its attempt (a repeat adds nothing). */
export interface MoveLog {
  status: string;
  source: 'api' | 'worker';
  applied: boolean;
  attempt: number;
  twilioSid: string | null;
  errorCode: number | null;
  errorMessage: string | null;
}

/** A move's outcome: the row after it, whether the move applied, and its log row if any. */
export interface Move {
  row: MessageState;
  applied: boolean;
  log: MoveLog | null;
  /**
   * Whether an applied move is a status change clients hear of (`message.status`): Twilio's
   * statuses, a failure, an admin's retry. A worker's claim and retry-later are bookkeeping.
   */
  visible: boolean;
}

/** A status change as the event log records it (`message.status`). */
export interface StatusChange {
  messageId: string;
  sequence: number;
  previousStatus: string;
  status: string;
  errorCode: number | null;
  errorMessage: string | null;
  occurredAt: Timestamp;
}

/**
 * The event a visible change makes, and the row with its sequence counted. The previous status
 * is the last one clients saw: `dispatching` is only ever entered from `pending` by a claim, which
 * clients never hear of, so it shows as `pending`.
 */
export function statusChange(
  before: MessageState,
  after: MessageState,
  at: Timestamp,
): { row: MessageState; change: StatusChange } {
  const sequence = after.eventSequence + 1;
  const failure = isFailure(after.status);
  return {
    row: { ...after, eventSequence: sequence },
    change: {
      messageId: after.id,
      sequence,
      previousStatus: before.status === 'dispatching' ? 'pending' : before.status,
      status: after.status,
      errorCode: failure ? after.errorCode : null,
      errorMessage: failure ? after.errorMessage : null,
      occurredAt: at,
    },
  };
}

/**
 * A retry's backoff is set and checked on PostgreSQL's clock, but its job becomes due on the
 * clocks of two worker hosts: the one that added it (its time plus the delay) and the one that
 * runs it. A job may claim a row this much before the backoff ends, so a small skew between two
 * worker hosts never turns the row's own job away (that would only delay it until the sweeper).
 */
export const BACKOFF_CLOCK_SKEW_MS = 1_000;

const unchanged = (row: MessageState): Move => ({
  row,
  applied: false,
  log: null,
  visible: false,
});

/**
 * A worker claims the row: `pending` once its backoff has ended, or `dispatching` whose holder
 * has been silent for `staleMs` (a takeover). Attempts + 1 and the holder's clock starts `now`.
 * A takeover's dead holder may have reached Twilio: its start becomes the uncertain mark.
 */
export function claim(row: MessageState, now: Timestamp, staleMs: number): Move {
  if (!decideOutboxMove(row.status, 'claim')) return unchanged(row);
  const takeover = row.status === 'dispatching';
  if (takeover) {
    const started = row.dispatchStartedAt;
    if (started === null || millisOf(started) >= millisOf(now) - staleMs) return unchanged(row);
  } else if (
    row.nextAttemptAt !== null &&
    millisOf(row.nextAttemptAt) > millisOf(now) + BACKOFF_CLOCK_SKEW_MS
  ) {
    return unchanged(row);
  }
  const attempts = row.attempts + 1;
  const next: MessageState = {
    ...row,
    status: outboxMoveTo('claim'),
    attempts,
    dispatchStartedAt: now,
    nextAttemptAt: null,
    uncertainSince: takeover
      ? earliest(row.uncertainSince, row.dispatchStartedAt)
      : row.uncertainSince,
  };
  return {
    row: next,
    applied: true,
    log: workerLog(next.status, attempts, true),
    visible: false,
  };
}

/**
 * Twilio created the message. Its SID is kept whoever answers (a stale attempt's SID is what the
 * holder's look-up adopts instead of creating another); the status moves only for the attempt
 * holding the row and only where the state machine lets it; the holder's clock and marks are
 * cleared either way: Twilio has it, no takeover may resend it.
 */
export function answer(
  row: MessageState,
  attempt: number,
  given: TwilioAnswer,
  now: Timestamp,
): Move {
  const holds = row.attempts === attempt;
  const applied = holds && decideTransition(row.status, given.status).applies;
  let next: MessageState = { ...row, twilioSid: row.twilioSid ?? given.sid };
  if (applied) {
    // This attempt's own outcome replaces whatever error an earlier attempt left.
    const failure = isFailure(given.status);
    next = {
      ...event(next, given, now),
      errorCode: failure ? given.errorCode : null,
      errorMessage: failure ? given.errorMessage : null,
    };
  }
  if (holds) {
    next = { ...next, dispatchStartedAt: null, uncertainSince: null, lastErrorRetryable: false };
  }
  const log: MoveLog = {
    ...workerLog(given.status, attempt, applied),
    twilioSid: given.sid,
    errorCode: given.errorCode,
    errorMessage: given.errorMessage,
  };
  return { row: next, applied, log, visible: applied };
}

/**
 * The send failed for good: `failed` where the state machine lets it, for the holder only (a
 * stale attempt's failure says nothing about the attempt that took over), with whether an
 * operator's retry makes sense.
 */
export function sendFailure(
  row: MessageState,
  attempt: number,
  failure: { errorCode: number | null; errorMessage: string; retryable: boolean },
  now: Timestamp,
): Move {
  const holds = row.attempts === attempt;
  const applied = holds && decideTransition(row.status, 'failed').applies;
  let next = row;
  if (applied) {
    next = {
      ...event(row, { status: 'failed', ...failure }, now),
      lastErrorRetryable: failure.retryable,
    };
  }
  if (holds) next = { ...next, dispatchStartedAt: null };
  const log: MoveLog = {
    ...workerLog('failed', attempt, applied),
    errorCode: failure.errorCode,
    errorMessage: failure.errorMessage,
  };
  return { row: next, applied, log, visible: applied };
}

/**
 * Back to `pending` for a later attempt, by the holder only, due `delayMs` after `now`.
 * `uncertain` (the attempt may have reached Twilio) sets the look-before-resending mark; a
 * certain failure never clears one left earlier.
 */
export function retryLater(
  row: MessageState,
  attempt: number,
  retry: { delayMs: number; errorCode: number | null; errorMessage: string; uncertain: boolean },
  now: Timestamp,
): Move {
  if (!decideOutboxMove(row.status, 'retry-later') || row.attempts !== attempt) {
    return unchanged(row);
  }
  const next: MessageState = {
    ...row,
    status: outboxMoveTo('retry-later'),
    nextAttemptAt: plusMillis(now, retry.delayMs),
    errorCode: retry.errorCode,
    errorMessage: retry.errorMessage,
    uncertainSince: retry.uncertain
      ? earliest(row.uncertainSince, row.dispatchStartedAt)
      : row.uncertainSince,
    dispatchStartedAt: null,
  };
  const log: MoveLog = {
    ...workerLog(next.status, row.attempts, true),
    errorCode: retry.errorCode,
    errorMessage: retry.errorMessage,
  };
  return { row: next, applied: true, log, visible: false };
}

/** An operator's retry: a failed message whose last error was retryable gets `extra` attempts. */
export function adminRetry(row: MessageState, extraAttempts: number): Move {
  if (!decideOutboxMove(row.status, 'admin-retry') || !row.lastErrorRetryable) {
    return unchanged(row);
  }
  const next: MessageState = {
    ...row,
    status: outboxMoveTo('admin-retry'),
    maxAttempts: row.attempts + extraAttempts,
    errorCode: null,
    errorMessage: null,
    stages: { ...row.stages, failed_at: null },
    lastErrorRetryable: false,
    nextAttemptAt: null,
  };
  const log: MoveLog = { ...workerLog(next.status, row.attempts, true), source: 'api' };
  return { row: next, applied: true, log, visible: true };
}

/**
 * A status event from Twilio (a callback, the reconciler's look, the worker's answer) where the
 * state machine lets it apply: the status, the SID if the row had none, the error of a failure,
 * and the stages the status proves, stamped `at` unless already set.
 */
export function applyEvent(
  row: MessageState,
  given: {
    status: string;
    twilioSid?: string | null;
    errorCode?: number | null;
    errorMessage?: string | null;
  },
  at: Timestamp,
): { row: MessageState; applied: boolean; anomaly: boolean } {
  const decision = decideTransition(row.status, given.status);
  if (!decision.applies) return { row, applied: false, anomaly: decision.anomaly };
  const next = event({ ...row, twilioSid: row.twilioSid ?? given.twilioSid ?? null }, given, at);
  return { row: next, applied: true, anomaly: false };
}

/** The reconciler looked at the message `now` (whatever Twilio said): its lease ends. */
export function reconciled(row: MessageState, now: Timestamp): MessageState {
  return { ...row, reconciledAt: now, reconcileLeaseUntil: null };
}

/** Whether two states of one row differ (so it must be written). */
export function sameState(a: MessageState, b: MessageState): boolean {
  return (
    a.status === b.status &&
    a.attempts === b.attempts &&
    a.maxAttempts === b.maxAttempts &&
    a.twilioSid === b.twilioSid &&
    a.errorCode === b.errorCode &&
    a.errorMessage === b.errorMessage &&
    STAGE_COLUMNS.every((column) => a.stages[column] === b.stages[column]) &&
    a.dispatchStartedAt === b.dispatchStartedAt &&
    a.uncertainSince === b.uncertainSince &&
    a.nextAttemptAt === b.nextAttemptAt &&
    a.lastErrorRetryable === b.lastErrorRetryable &&
    a.reconciledAt === b.reconciledAt &&
    a.reconcileLeaseUntil === b.reconcileLeaseUntil &&
    a.eventSequence === b.eventSequence
  );
}

/** The part every applied status shares: the status itself, a failure's error, its stages. */
function event(
  row: MessageState,
  given: { status: string; errorCode?: number | null; errorMessage?: string | null },
  at: Timestamp,
): MessageState {
  const failure = isFailure(given.status);
  const stages = { ...row.stages };
  for (const column of stagesProvedBy(given.status)) stages[column] ??= at;
  return {
    ...row,
    status: given.status,
    // A failure carries its error; Twilio's progress statuses leave the stored one.
    errorCode: failure ? (given.errorCode ?? null) : row.errorCode,
    errorMessage: failure ? (given.errorMessage ?? null) : row.errorMessage,
    stages,
  };
}

function workerLog(status: string, attempt: number, applied: boolean): MoveLog {
  return {
    status,
    source: 'worker',
    applied,
    attempt,
    twilioSid: null,
    errorCode: null,
    errorMessage: null,
  };
}
