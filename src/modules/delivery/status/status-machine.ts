// The status state machine (docs/architecture.md §3). Pure: no Nest, no I/O; table-tested over
// every pair. Every write to a message is decided with it in TypeScript, on the row as locked
// (message-moves.ts, MessageWriter); no rule of it is written in SQL.

export const PROGRESS_STATUSES = [
  'pending',
  'dispatching',
  'accepted',
  'scheduled',
  'queued',
  'sending',
  'sent',
  'delivered',
  'read',
] as const;
export const FAILURE_STATUSES = ['failed', 'undelivered', 'canceled'] as const;
/** Inbound messages live outside the outbound ladder. */
export const INBOUND_STATUSES = ['receiving', 'received'] as const;

export type ProgressStatus = (typeof PROGRESS_STATUSES)[number];
export type FailureStatus = (typeof FAILURE_STATUSES)[number];
export type MessageStatus = ProgressStatus | FailureStatus | (typeof INBOUND_STATUSES)[number];
export const OUTBOUND_STATUSES: readonly (ProgressStatus | FailureStatus)[] = [
  ...PROGRESS_STATUSES,
  ...FAILURE_STATUSES,
];

const RANK: Readonly<Record<ProgressStatus, number>> = {
  pending: 0,
  dispatching: 1,
  accepted: 2,
  scheduled: 2,
  queued: 3,
  sending: 4,
  sent: 5,
  delivered: 6,
  read: 7,
};

export function isFailure(status: string): status is FailureStatus {
  return (FAILURE_STATUSES as readonly string[]).includes(status);
}

export function isProgress(status: string): status is ProgressStatus {
  return (PROGRESS_STATUSES as readonly string[]).includes(status);
}

export interface TransitionDecision {
  /** The message's status changes to the incoming one. */
  applies: boolean;
  /** A failure reported after delivered/read: logged and counted, never applied. */
  anomaly: boolean;
}

/**
 * Whether an event moves a message forward. Only forward moves apply; a late `sent` never
 * overwrites `delivered`; `failed`/`undelivered`/`canceled` win over anything below `delivered`;
 * nothing leaves a failure state (only an explicit retry, which is not an event).
 */
export function decideTransition(current: string, incoming: string): TransitionDecision {
  if (isFailure(current)) return { applies: false, anomaly: false };
  if (!isProgress(current)) return { applies: false, anomaly: false };
  if (isFailure(incoming)) {
    const applies = RANK[current] < RANK.delivered;
    return { applies, anomaly: !applies };
  }
  if (!isProgress(incoming)) return { applies: false, anomaly: false };
  return { applies: RANK[incoming] > RANK[current], anomaly: false };
}

/**
 * The outbox's own moves, which are ours, not Twilio's events: a worker claims a message
 * (`pending` → `dispatching`, or takes over a `dispatching` one whose worker died), gives it back
 * for a later attempt (`dispatching` → `pending`), and an admin retries a failed one (`failed` →
 * `pending`). Twilio's answer to the create call and a send that failed for good are events
 * (decideTransition). Conditions on time, on the holder and on the last error (a takeover only
 * once the holder is stale; an admin retry only after a retryable error) are message-moves.ts'.
 */
export type OutboxMove = 'claim' | 'retry-later' | 'admin-retry';
export const OUTBOX_MOVES: readonly OutboxMove[] = ['claim', 'retry-later', 'admin-retry'];

const OUTBOX_MOVE_RULES: Readonly<
  Record<
    OutboxMove,
    { from: readonly ProgressStatus[] | readonly FailureStatus[]; to: ProgressStatus }
  >
> = {
  claim: { from: ['pending', 'dispatching'], to: 'dispatching' },
  'retry-later': { from: ['dispatching'], to: 'pending' },
  'admin-retry': { from: ['failed'], to: 'pending' },
};

/** Whether an outbox move may start from `current`. */
export function decideOutboxMove(current: string, move: OutboxMove): boolean {
  return (OUTBOX_MOVE_RULES[move].from as readonly string[]).includes(current);
}

/** Where an outbox move leaves the message. */
export function outboxMoveTo(move: OutboxMove): ProgressStatus {
  return OUTBOX_MOVE_RULES[move].to;
}

/**
 * Where an event sorts when several for one message are applied together: progress by rank,
 * a failure just below `delivered` (the point up to which it wins), anything unknown last.
 * Applying a group in this order gives what Twilio's own order would, whatever order the
 * requests arrived in.
 */
export function eventOrder(status: string): number {
  if (isProgress(status)) return RANK[status];
  if (isFailure(status)) return RANK.delivered - 0.5;
  return Number.MAX_SAFE_INTEGER;
}

/** Stage timestamp columns an event proves (read proves delivered and sent). */
export type StageColumn = 'accepted_at' | 'sent_at' | 'delivered_at' | 'read_at' | 'failed_at';
export const STAGE_COLUMNS: readonly StageColumn[] = [
  'accepted_at',
  'sent_at',
  'delivered_at',
  'read_at',
  'failed_at',
];

export function stagesProvedBy(status: string): StageColumn[] {
  switch (status) {
    case 'accepted':
    case 'scheduled':
    case 'queued':
    case 'sending':
      return ['accepted_at'];
    case 'sent':
      return ['accepted_at', 'sent_at'];
    case 'delivered':
      return ['accepted_at', 'sent_at', 'delivered_at'];
    case 'read':
      return ['accepted_at', 'sent_at', 'delivered_at', 'read_at'];
    case 'failed':
    case 'undelivered':
    case 'canceled':
      return ['failed_at'];
    default:
      return [];
  }
}

/** Statuses after which nothing is expected (read receipts can be off, so delivered is final). */
export const FINAL_STATUSES: readonly string[] = ['delivered', 'read', ...FAILURE_STATUSES];
/** Twilio's own rule: a further status after 72 h in `sent` is unlikely. */
const SENT_FINAL_AFTER_HOURS = 72;

/** Final for reconciliation and the stuck gauge: the statuses above, and sent older than 72 h. */
export function isFinal(status: string, sentAt: Date | null, now: number = Date.now()): boolean {
  if (FINAL_STATUSES.includes(status)) return true;
  return (
    status === 'sent' &&
    sentAt !== null &&
    now - sentAt.getTime() > SENT_FINAL_AFTER_HOURS * 3600_000
  );
}

/**
 * The same rule as a SQL condition on whatsapp_messages, for the reconciler and the stuck gauge.
 * The list is written out (from the constants above, never from input) so that it matches the
 * partial index on open messages.
 */
export function notFinalSql(): string {
  const list = FINAL_STATUSES.map((status) => `'${status}'`).join(', ');
  return `(status NOT IN (${list}) AND NOT (status = 'sent' AND sent_at IS NOT NULL AND sent_at < now() - interval '${SENT_FINAL_AFTER_HOURS} hours'))`;
}
