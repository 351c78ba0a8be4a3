import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  millisOf,
  sameState,
  statusChange,
  type StatusChange,
  type MessageState,
  type Move,
  type MoveLog,
  type Timestamp,
} from './message-moves';
import type { ClaimedMessage, StageTimes } from '../delivery.types';

/** What a worker needs of a claimed message to call Twilio (read under the same lock). */
export type SendPayload = Pick<
  ClaimedMessage,
  'from' | 'to' | 'body' | 'contentSid' | 'contentVariables' | 'mediaUrls'
>;

/** Which rows to lock: by our id, by Twilio's SID, or both. */
export interface LockKeys {
  ids?: readonly string[];
  sids?: readonly string[];
  /** Also read what a worker sends (claims only). */
  payload?: boolean;
}

type LockedRow = Omit<MessageState, 'stages'> &
  MessageState['stages'] & {
    now: Timestamp;
    xid: string;
    eventXid: string | null;
  } & Partial<SendPayload>;

/**
 * The one way a message's state is written (docs/architecture.md §3): in one transaction, lock
 * the rows (`FOR UPDATE`, in id order, so two writers never deadlock on them), let the caller
 * decide each row in TypeScript on the locked values (message-moves.ts, status-machine.ts), then
 * store the rows that changed and the log rows with ONE plain multi-row statement. No state rule
 * lives in the SQL here: it stores what the decisions returned. Time conditions use `now`, the
 * clock of the lock query (the transaction's `now()`), never the process clock.
 */
@Injectable()
export class MessageWriter {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Lock → `decide` → write, in one transaction; `decide` may run statements of its own on
   * `manager` (the status events' log rows) and returns what the caller answers.
   */
  run<R>(
    keys: LockKeys,
    decide: (locked: LockedMessages, manager: EntityManager) => R | Promise<R>,
  ): Promise<R> {
    return this.dataSource.transaction(async (manager) => {
      const locked = await lock(manager, keys);
      const result = await decide(locked, manager);
      await write(manager, locked);
      return result;
    });
  }
}

/** The rows one transaction holds: as locked, as decided so far, and the log rows to add. */
export class LockedMessages {
  private readonly original = new Map<string, MessageState>();
  private readonly current = new Map<string, MessageState>();
  private readonly idOfSid = new Map<string, string>();
  private readonly payloads = new Map<string, SendPayload>();
  private readonly lockedAt: Timestamp | null;
  /** This transaction's id, and each message's last event's feed position xid (text). */
  private readonly xid: string | null;
  private readonly eventXids = new Map<string, string | null>();
  /** Log rows keyed by attempt (a repeat adds nothing), in the order they were decided. */
  readonly logs: (MoveLog & { messageId: string })[] = [];
  /** Log rows already inserted (status events) that applied. */
  readonly appliedLogIds: string[] = [];
  /** The event log's rows for the visible changes decided so far, in order. */
  readonly changes: StatusChange[] = [];

  constructor(rows: readonly LockedRow[]) {
    this.lockedAt = rows[0]?.now ?? null;
    this.xid = rows[0]?.xid ?? null;
    for (const row of rows) {
      const state = stateOf(row);
      this.eventXids.set(state.id, row.eventXid);
      this.original.set(state.id, state);
      this.current.set(state.id, state);
      if (state.twilioSid !== null) this.idOfSid.set(state.twilioSid, state.id);
      if (row.to !== undefined) this.payloads.set(state.id, payloadOf(row));
    }
  }

  /** The lock query's `now()`: the clock of every time condition and stamp in this batch. */
  get now(): Timestamp {
    if (this.lockedAt === null) throw new Error('no row was locked: there is no time to decide on');
    return this.lockedAt;
  }

  /** The row as decided so far, by our id (any spelling of the uuid), or null if not locked. */
  get(id: string): MessageState | null {
    return this.current.get(id.toLowerCase()) ?? null;
  }

  /** The row holding this SID (as locked), or null. */
  bySid(sid: string): MessageState | null {
    const id = this.idOfSid.get(sid);
    return id === undefined ? null : this.get(id);
  }

  payload(id: string): SendPayload | undefined {
    return this.payloads.get(id.toLowerCase());
  }

  /** Keeps a move's row, its log row and, for a visible change, its event; gives the move back. */
  apply(move: Move): Move {
    if (move.applied && move.visible) {
      this.changed(this.get(move.row.id) as MessageState, move.row, this.now);
    } else {
      this.set(move.row);
    }
    if (move.log) this.logs.push({ ...move.log, messageId: move.row.id });
    return move;
  }

  /** A visible status change (`before` → `after`, at `at`): the row, with its event recorded. */
  changed(before: MessageState, after: MessageState, at: Timestamp): void {
    const { row, change } = statusChange(before, after, at);
    this.set(row);
    this.changes.push(change);
  }

  set(row: MessageState): void {
    this.current.set(row.id, row);
  }

  /**
   * The `xid` a message's new event is filed under in the feed's order: this transaction's, or
   * the message's previous event's when that is higher. A transaction gets its id at its first
   * row lock and may then wait for this message's lock behind a transaction with a higher id;
   * filed under its own id, its event (sequence n+1) would sort before the other's (n). Filed
   * under the higher one it sorts after (same xid, higher row id), and the feed's bound still
   * holds: the value is never below this transaction's own id.
   */
  eventXid(messageId: string): string {
    if (this.xid === null) throw new Error('no row was locked: there is no transaction id');
    const previous = this.eventXids.get(messageId) ?? null;
    return previous !== null && BigInt(previous) > BigInt(this.xid) ? previous : this.xid;
  }

  /** Rows whose state differs from what was locked. */
  rowsToWrite(): MessageState[] {
    return [...this.current.values()].filter(
      (row) => !sameState(row, this.original.get(row.id) as MessageState),
    );
  }
}

/** The stage times of a row, as the latency metrics take them. */
export function stageTimesOf(row: MessageState): StageTimes {
  const date = (at: Timestamp | null) => (at === null ? null : new Date(millisOf(at)));
  return {
    acceptedAt: date(row.stages.accepted_at),
    sentAt: date(row.stages.sent_at),
    deliveredAt: date(row.stages.delivered_at),
    readAt: date(row.stages.read_at),
  };
}

// Timestamps travel as ISO 8601 text (to_json keeps microseconds whatever the DateStyle), so a
// row written back keeps them exactly.
const LOCK_SQL = `
  SELECT id, status, attempts, max_attempts AS "maxAttempts", twilio_sid AS "twilioSid",
         error_code AS "errorCode", error_message AS "errorMessage",
         to_json(accepted_at) #>> '{}' AS accepted_at,
         to_json(sent_at) #>> '{}' AS sent_at,
         to_json(delivered_at) #>> '{}' AS delivered_at,
         to_json(read_at) #>> '{}' AS read_at,
         to_json(failed_at) #>> '{}' AS failed_at,
         to_json(dispatch_started_at) #>> '{}' AS "dispatchStartedAt",
         to_json(uncertain_since) #>> '{}' AS "uncertainSince",
         to_json(next_attempt_at) #>> '{}' AS "nextAttemptAt",
         last_error_retryable AS "lastErrorRetryable",
         to_json(reconciled_at) #>> '{}' AS "reconciledAt",
         to_json(reconcile_lease_until) #>> '{}' AS "reconcileLeaseUntil",
         event_sequence AS "eventSequence", event_xid::text AS "eventXid",
         pg_current_xact_id()::text AS xid,
         to_json(now()) #>> '{}' AS now`;
const PAYLOAD_SQL = `,
         "from", "to", body, content_sid AS "contentSid",
         content_variables AS "contentVariables", media_urls AS "mediaUrls"`;

async function lock(manager: EntityManager, keys: LockKeys): Promise<LockedMessages> {
  const rows = await manager.query<LockedRow[]>(
    `${LOCK_SQL}${keys.payload ? PAYLOAD_SQL : ''}
       FROM whatsapp_messages
      WHERE id = ANY($1::uuid[]) OR twilio_sid = ANY($2::text[])
      ORDER BY id
        FOR UPDATE`,
    [[...new Set(keys.ids ?? [])], [...new Set(keys.sids ?? [])]],
  );
  return new LockedMessages(rows);
}

/**
 * ONE statement: the new log rows (in decision order: where two share a key, the first stays),
 * the status events' log rows that applied marked so, the event log's rows for the visible
 * changes, and every changed row stored as decided.
 */
async function write(manager: EntityManager, locked: LockedMessages): Promise<void> {
  const rows = locked.rowsToWrite();
  const { logs, appliedLogIds, changes } = locked;
  if (rows.length === 0 && logs.length === 0 && appliedLogIds.length === 0) return;
  const column = <K extends keyof MessageState>(key: K) => rows.map((row) => row[key]);
  const evented = new Set(changes.map((change) => change.messageId));
  await manager.query(
    `WITH logged AS (
       INSERT INTO message_status_logs
         (message_id, twilio_sid, status, error_code, error_message, source, applied, attempt)
       SELECT message_id, twilio_sid, status, error_code, error_message, source, applied, attempt
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[],
                     $7::boolean[], $8::int[])
              WITH ORDINALITY
              AS l(message_id, twilio_sid, status, error_code, error_message, source, applied,
                   attempt, ord)
        ORDER BY ord
       ON CONFLICT DO NOTHING
     ), marked AS (
       UPDATE message_status_logs SET applied = true WHERE id = ANY($9::bigint[])
     ), evented AS (
       INSERT INTO events
         (type, message_id, sequence, previous_status, status, error_code, error_message,
          occurred_at, xid)
       SELECT 'message.status', message_id, sequence, previous_status, status, error_code,
              error_message, occurred_at, xid
         FROM unnest($29::uuid[], $30::int[], $31::text[], $32::text[], $33::int[], $34::text[],
                     $35::timestamptz[], $36::xid8[])
              AS e(message_id, sequence, previous_status, status, error_code, error_message,
                   occurred_at, xid)
     )
     UPDATE whatsapp_messages m
        SET status = v.status, attempts = v.attempts, max_attempts = v.max_attempts,
            twilio_sid = v.twilio_sid, error_code = v.error_code, error_message = v.error_message,
            accepted_at = v.accepted_at, sent_at = v.sent_at, delivered_at = v.delivered_at,
            read_at = v.read_at, failed_at = v.failed_at,
            dispatch_started_at = v.dispatch_started_at, uncertain_since = v.uncertain_since,
            next_attempt_at = v.next_attempt_at, last_error_retryable = v.last_error_retryable,
            reconciled_at = v.reconciled_at, reconcile_lease_until = v.reconcile_lease_until,
            event_sequence = v.event_sequence,
            event_xid = coalesce(v.event_xid, m.event_xid), updated_at = now()
       FROM unnest($10::uuid[], $11::text[], $12::int[], $13::int[], $14::text[], $15::int[],
                   $16::text[], $17::timestamptz[], $18::timestamptz[], $19::timestamptz[],
                   $20::timestamptz[], $21::timestamptz[], $22::timestamptz[],
                   $23::timestamptz[], $24::timestamptz[], $25::boolean[], $26::timestamptz[],
                   $27::timestamptz[], $28::int[], $37::xid8[])
            AS v(id, status, attempts, max_attempts, twilio_sid, error_code, error_message,
                 accepted_at, sent_at, delivered_at, read_at, failed_at, dispatch_started_at,
                 uncertain_since, next_attempt_at, last_error_retryable, reconciled_at,
                 reconcile_lease_until, event_sequence, event_xid)
      WHERE m.id = v.id`,
    [
      logs.map((log) => log.messageId),
      logs.map((log) => log.twilioSid),
      logs.map((log) => log.status),
      logs.map((log) => log.errorCode),
      logs.map((log) => log.errorMessage),
      logs.map((log) => log.source),
      logs.map((log) => log.applied),
      logs.map((log) => log.attempt),
      appliedLogIds,
      column('id'),
      column('status'),
      column('attempts'),
      column('maxAttempts'),
      column('twilioSid'),
      column('errorCode'),
      column('errorMessage'),
      rows.map((row) => row.stages.accepted_at),
      rows.map((row) => row.stages.sent_at),
      rows.map((row) => row.stages.delivered_at),
      rows.map((row) => row.stages.read_at),
      rows.map((row) => row.stages.failed_at),
      column('dispatchStartedAt'),
      column('uncertainSince'),
      column('nextAttemptAt'),
      column('lastErrorRetryable'),
      column('reconciledAt'),
      column('reconcileLeaseUntil'),
      column('eventSequence'),
      changes.map((change) => change.messageId),
      changes.map((change) => change.sequence),
      changes.map((change) => change.previousStatus),
      changes.map((change) => change.status),
      changes.map((change) => change.errorCode),
      changes.map((change) => change.errorMessage),
      changes.map((change) => change.occurredAt),
      changes.map((change) => locked.eventXid(change.messageId)),
      rows.map((row) => (evented.has(row.id) ? locked.eventXid(row.id) : null)),
    ],
  );
}

function stateOf(row: LockedRow): MessageState {
  return {
    id: row.id,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    twilioSid: row.twilioSid,
    errorCode: row.errorCode,
    errorMessage: row.errorMessage,
    stages: {
      accepted_at: row.accepted_at,
      sent_at: row.sent_at,
      delivered_at: row.delivered_at,
      read_at: row.read_at,
      failed_at: row.failed_at,
    },
    dispatchStartedAt: row.dispatchStartedAt,
    uncertainSince: row.uncertainSince,
    nextAttemptAt: row.nextAttemptAt,
    lastErrorRetryable: row.lastErrorRetryable,
    reconciledAt: row.reconciledAt,
    reconcileLeaseUntil: row.reconcileLeaseUntil,
    eventSequence: row.eventSequence,
  };
}

function payloadOf(row: LockedRow): SendPayload {
  return {
    from: row.from ?? null,
    to: row.to as string,
    body: row.body ?? null,
    contentSid: row.contentSid ?? null,
    contentVariables: row.contentVariables ?? null,
    mediaUrls: row.mediaUrls ?? [],
  };
}
