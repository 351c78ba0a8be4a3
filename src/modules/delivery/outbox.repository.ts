import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { returning } from '../../database/returning';
import type { StageTimes } from './delivery-metrics.service';
import type { ClaimedMessage, DueMessage, NewOutboundMessage, TwilioAnswer } from './outbox.types';
import {
  allowedPredecessors,
  isFailure,
  outboxMoveFrom,
  outboxMoveTo,
  STAGE_COLUMNS,
  stagesProvedBy,
  type StageColumn,
} from './status-machine';

/** What a worker's own event did to the message. */
export interface MoveResult {
  applied: boolean;
  /** The message's stage timestamps after an applied move. */
  stages?: StageTimes;
}

/**
 * A retry's backoff is set and checked on PostgreSQL's clock, but its job becomes due on the
 * clocks of two worker hosts: the one that added it (its time plus the delay) and the one that
 * runs it. A job may claim a row this much before the backoff ends, so a small skew between two
 * worker hosts never turns the row's own job away (that would only delay it until the sweeper).
 */
const BACKOFF_CLOCK_SKEW_MS = 1_000;

const STAGES_RETURNED = `m.accepted_at AS "acceptedAt", m.sent_at AS "sentAt",
  m.delivered_at AS "deliveredAt", m.read_at AS "readAt"`;

/**
 * The outbox side of whatsapp_messages: the moves of a message that no Twilio callback makes.
 * Each move is decided by the state machine (its WHERE comes from status-machine.ts) and is
 * one transaction with its status-log row, keyed by the attempt it belongs to, so a message's
 * history shows every attempt once and a process killed mid-move leaves the row as it was.
 */
@Injectable()
export class OutboxRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts the row (`pending`) and its log row; `then` runs in the same transaction. */
  async createPending(
    message: NewOutboundMessage,
    then?: (manager: EntityManager, id: string) => Promise<void>,
  ): Promise<string> {
    return this.dataSource.transaction(async (manager) => {
      const [id] = await this.insertPending(manager, [message]);
      await then?.(manager, id);
      return id;
    });
  }

  /** Many new sends in ONE statement (so one implicit transaction). */
  createPendingMany(messages: readonly NewOutboundMessage[]): Promise<string[]> {
    return this.insertPending(this.dataSource, messages);
  }

  /**
   * Each row (`pending`) with its log row, in one statement. The ids are made here, so each
   * caller knows its own without relying on the order RETURNING gives.
   */
  private async insertPending(
    runner: DataSource | EntityManager,
    messages: readonly NewOutboundMessage[],
  ): Promise<string[]> {
    const ids = messages.map(() => randomUUID());
    const json = (value: unknown): string | null =>
      value === null || value === undefined ? null : JSON.stringify(value);
    await runner.query(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
                              $6::jsonb[], $7::jsonb[], $8::text[], $9::jsonb[], $10::uuid[],
                              $11::text[], $12::int[])
                  AS u(id, "from", "to", body, content_sid, content_variables, media_urls,
                       reference, metadata, created_by, idempotency_key, max_attempts)
       ), created AS (
         INSERT INTO whatsapp_messages
           (id, direction, "from", "to", body, content_sid, content_variables, media_urls,
            reference, metadata, status, created_by, idempotency_key, max_attempts)
         SELECT id, 'outbound', "from", "to", body, content_sid, content_variables, media_urls,
                reference, metadata, 'pending', created_by, idempotency_key, max_attempts
           FROM input
         RETURNING id
       )
       INSERT INTO message_status_logs (message_id, status, source, applied, attempt)
       SELECT id, 'pending', 'api', true, 0 FROM created`,
      [
        ids,
        messages.map((message) => message.from),
        messages.map((message) => message.to),
        messages.map((message) => message.body),
        messages.map((message) => message.contentSid),
        messages.map((message) => json(message.contentVariables)),
        messages.map((message) => json(message.mediaUrls)),
        messages.map((message) => message.reference),
        messages.map((message) => json(message.metadata)),
        messages.map((message) => message.createdBy),
        messages.map((message) => message.idempotencyKey),
        messages.map((message) => message.maxAttempts),
      ],
    );
    return ids;
  }

  /**
   * `pending` → `dispatching` (or a `dispatching` row whose worker died), attempts + 1, for many
   * workers' claims at once (the worker's group commit). One result per claim, in order: null
   * when another worker holds the row, it moved on, or its retry's backoff has not ended (a
   * duplicate job that arrived early; the row's own job, or the sweeper once it is due, claims it
   * later). Exactly as if the claims were made one at a time in that order: a message claimed
   * twice goes to the first claim, the second finds it held.
   */
  claimForSendMany(
    claims: readonly { id: string; staleMs: number }[],
  ): Promise<(ClaimedMessage | null)[]> {
    return this.inDistinctRounds(claims, (runner, round) => this.claimDistinct(runner, round));
  }

  /**
   * Claims of distinct messages in ONE statement (so one implicit transaction with their log
   * rows). The rows are locked in id order, so two workers' batches (and status batches, which
   * lock in id order too) never deadlock; each result is matched to its claim by position.
   */
  private async claimDistinct(
    runner: DataSource | EntityManager,
    claims: readonly { id: string; staleMs: number }[],
  ): Promise<(ClaimedMessage | null)[]> {
    // A takeover's dead holder may have reached Twilio: its start becomes the uncertain mark.
    // The new holder's own clock starts now, so nobody takes the row over again before it is
    // stale in turn.
    const rows = await runner.query<(ClaimedMessage & { ord: string })[]>(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS u(id, stale_ms, ord)
       ), claimed AS (
         UPDATE whatsapp_messages m
            SET status = $3, attempts = m.attempts + 1, updated_at = now(),
                dispatch_started_at = now(), next_attempt_at = NULL,
                uncertain_since = CASE WHEN m.status = 'dispatching'
                                       THEN LEAST(m.uncertain_since, m.dispatch_started_at)
                                       ELSE m.uncertain_since END
           FROM input
           JOIN (SELECT id FROM whatsapp_messages WHERE id = ANY($1::uuid[])
                  ORDER BY id FOR UPDATE) locked ON locked.id = input.id
          WHERE m.id = input.id AND m.status = ANY($4)
            AND (m.status <> 'dispatching'
                 OR m.dispatch_started_at < now() - input.stale_ms * interval '1 millisecond')
            AND (m.status <> 'pending' OR m.next_attempt_at IS NULL
                 OR m.next_attempt_at <= now() + $5 * interval '1 millisecond')
          RETURNING input.ord, m.id, m."from", m."to", m.body, m.content_sid AS "contentSid",
                    m.content_variables AS "contentVariables", m.media_urls AS "mediaUrls",
                    m.attempts, m.max_attempts AS "maxAttempts",
                    m.uncertain_since AS "uncertainSince"
       ), logged AS (
         INSERT INTO message_status_logs (message_id, status, source, applied, attempt)
         SELECT id, $3, 'worker', true, attempts FROM claimed
         ON CONFLICT DO NOTHING
       )
       SELECT * FROM claimed`,
      [
        claims.map((claim) => claim.id),
        claims.map((claim) => claim.staleMs),
        outboxMoveTo('claim'),
        outboxMoveFrom('claim'),
        BACKOFF_CLOCK_SKEW_MS,
      ],
    );
    const results = claims.map((): ClaimedMessage | null => null);
    for (const { ord, ...claimed } of rows) results[Number(ord) - 1] = claimed;
    return results;
  }

  /**
   * Twilio created the message: its SID and its first status (the status only where the state
   * machine lets it move), with the worker's log row in the same statement. The start time and
   * the uncertain mark are cleared either way: Twilio has it, no takeover may resend it. For many
   * workers' answers at once: one result per answer, in order, exactly as if they were recorded
   * one at a time in that order (a stale attempt's and the holder's answer for one message
   * included).
   */
  recordAcceptedMany(
    accepted: readonly { id: string; attempt: number; answer: TwilioAnswer }[],
  ): Promise<MoveResult[]> {
    return this.inDistinctRounds(accepted, (runner, round) =>
      this.recordAcceptedDistinct(runner, round),
    );
  }

  /**
   * Answers for distinct messages in ONE statement: each row's move decided by the state
   * machine (its allowed predecessors and the stages its status proves, passed per row) and by
   * whether the answering attempt still holds the row; the worker's log rows in the same
   * statement.
   */
  private async recordAcceptedDistinct(
    runner: DataSource | EntityManager,
    accepted: readonly { id: string; attempt: number; answer: TwilioAnswer }[],
  ): Promise<MoveResult[]> {
    const proves = (column: StageColumn) =>
      accepted.map(({ answer }) => stagesProvedBy(answer.status).includes(column));
    // Only the current holder moves the row; a stale one (taken over meanwhile) still leaves
    // the SID, so the new holder's look-up adopts this message instead of creating another.
    const holds = 'old.held = d.attempt';
    const applies = `(${holds} AND old.previous = ANY(string_to_array(d.predecessors, ',')))`;
    const stages = STAGE_COLUMNS.map(
      (column) =>
        `${column} = CASE WHEN ${applies} AND d.proves_${column}
                          THEN COALESCE(m.${column}, now()) ELSE m.${column} END`,
    );
    const rows = await runner.query<(StageTimes & { ord: string; applied: boolean })[]>(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[],
                              $6::boolean[], $7::int[], $8::text[],
                              ${STAGE_COLUMNS.map((_column, index) => `$${9 + index}::boolean[]`).join(', ')})
                  WITH ORDINALITY
                  AS u(id, attempt, sid, status, predecessors, failure, error_code, error_message,
                       ${STAGE_COLUMNS.map((column) => `proves_${column}`).join(', ')}, ord)
       ), moved AS (
         UPDATE whatsapp_messages m
            SET twilio_sid = COALESCE(m.twilio_sid, d.sid),
                status = CASE WHEN ${applies} THEN d.status ELSE m.status END,
                error_code = CASE WHEN ${applies}
                                  THEN CASE WHEN d.failure THEN d.error_code END
                                  ELSE m.error_code END,
                error_message = CASE WHEN ${applies}
                                     THEN CASE WHEN d.failure THEN d.error_message END
                                     ELSE m.error_message END,
                ${stages.join(', ')},
                dispatch_started_at = CASE WHEN ${holds} THEN NULL ELSE m.dispatch_started_at END,
                uncertain_since = CASE WHEN ${holds} THEN NULL ELSE m.uncertain_since END,
                last_error_retryable = CASE WHEN ${holds} THEN false ELSE m.last_error_retryable END,
                updated_at = now()
           FROM input d
           JOIN (SELECT id, status AS previous, attempts AS held FROM whatsapp_messages
                  WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE) old ON old.id = d.id
          WHERE m.id = d.id
          RETURNING d.ord, m.id, d.sid, d.status, d.error_code, d.error_message, d.attempt,
                    ${applies} AS applied, ${STAGES_RETURNED}
       ), logged AS (
         INSERT INTO message_status_logs
           (message_id, twilio_sid, status, error_code, error_message, source, applied, attempt)
         SELECT id, sid, status, error_code, error_message, 'worker', applied, attempt FROM moved
         ON CONFLICT DO NOTHING
       )
       SELECT ord, applied, "acceptedAt", "sentAt", "deliveredAt", "readAt" FROM moved`,
      [
        accepted.map(({ id }) => id),
        accepted.map(({ attempt }) => attempt),
        accepted.map(({ answer }) => answer.sid),
        accepted.map(({ answer }) => answer.status),
        accepted.map(({ answer }) => allowedPredecessors(answer.status).join(',')),
        accepted.map(({ answer }) => isFailure(answer.status)),
        accepted.map(({ answer }) => answer.errorCode),
        accepted.map(({ answer }) => answer.errorMessage),
        ...STAGE_COLUMNS.map(proves),
      ],
    );
    const results = accepted.map((): MoveResult => ({ applied: false }));
    for (const { ord, applied, ...stageTimes } of rows) {
      results[Number(ord) - 1] = applied ? { applied, stages: stageTimes } : { applied };
    }
    return results;
  }

  /**
   * Writes items of which several may concern one message: round k holds each message's k-th
   * item, so every statement sees distinct messages and one message's items are written in
   * their order. One round is one statement; more share one transaction, so the whole batch
   * commits or fails together.
   */
  private async inDistinctRounds<I extends { id: string }, O>(
    items: readonly I[],
    write: (runner: DataSource | EntityManager, round: readonly I[]) => Promise<O[]>,
  ): Promise<O[]> {
    const rounds: number[][] = [];
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      // The database's spelling of a uuid: one message is one key however its id is written.
      const key = item.id.toLowerCase();
      const round = seen.get(key) ?? 0;
      seen.set(key, round + 1);
      (rounds[round] ??= []).push(index);
    });
    const results = new Array<O>(items.length);
    const run = async (runner: DataSource | EntityManager): Promise<O[]> => {
      for (const round of rounds) {
        const written = await write(
          runner,
          round.map((index) => items[index]),
        );
        round.forEach((index, position) => (results[index] = written[position]));
      }
      return results;
    };
    return rounds.length <= 1 ? run(this.dataSource) : this.dataSource.transaction(run);
  }

  /**
   * The send failed for good: `failed` where the state machine lets it apply, the mark that
   * says whether an operator's retry makes sense, and the log row — one transaction.
   */
  async recordSendFailure(
    id: string,
    attempt: number,
    failure: { errorCode: number | null; errorMessage: string; retryable: boolean },
  ): Promise<MoveResult> {
    return this.dataSource.transaction(async (manager) => {
      // Only the current holder fails the row: a stale one's failure says nothing about the
      // attempt that took over.
      const applies = '(old.previous = ANY($2) AND old.held = $6)';
      const rows = await returning<{ applied: boolean }>(
        manager,
        `UPDATE whatsapp_messages m
            SET status = CASE WHEN ${applies} THEN 'failed' ELSE m.status END,
                error_code = CASE WHEN ${applies} THEN $3 ELSE m.error_code END,
                error_message = CASE WHEN ${applies} THEN $4 ELSE m.error_message END,
                failed_at = CASE WHEN ${applies} THEN COALESCE(m.failed_at, now()) ELSE m.failed_at END,
                last_error_retryable = CASE WHEN ${applies} THEN $5 ELSE m.last_error_retryable END,
                dispatch_started_at = CASE WHEN old.held = $6 THEN NULL ELSE m.dispatch_started_at END,
                updated_at = now()
           FROM (SELECT id, status AS previous, attempts AS held FROM whatsapp_messages
                  WHERE id = $1 FOR UPDATE) old
          WHERE m.id = old.id
          RETURNING ${applies} AS applied`,
        [
          id,
          allowedPredecessors('failed'),
          failure.errorCode,
          failure.errorMessage,
          failure.retryable,
          attempt,
        ],
      );
      const applied = rows.at(0)?.applied ?? false;
      if (rows.length > 0) {
        await this.log(manager, id, attempt, {
          status: 'failed',
          source: 'worker',
          applied,
          errorCode: failure.errorCode,
          errorMessage: failure.errorMessage,
        });
      }
      return { applied };
    });
  }

  /**
   * Back to `pending` for a later attempt, by the attempt that holds the row only. `uncertain`
   * (the attempt may have reached Twilio) sets the look-before-resending mark; a certain failure
   * never clears one left earlier.
   */
  async scheduleRetry(
    id: string,
    attempt: number,
    retry: { delayMs: number; errorCode: number | null; errorMessage: string; uncertain: boolean },
  ): Promise<number | null> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await returning<{ attempts: number }>(
        manager,
        `UPDATE whatsapp_messages
            SET status = $6, next_attempt_at = now() + $2 * interval '1 millisecond',
                error_code = $3, error_message = $4,
                uncertain_since = CASE WHEN $5 THEN LEAST(uncertain_since, dispatch_started_at)
                                       ELSE uncertain_since END,
                dispatch_started_at = NULL, updated_at = now()
          WHERE id = $1 AND status = ANY($7) AND attempts = $8
          RETURNING attempts`,
        [
          id,
          retry.delayMs,
          retry.errorCode,
          retry.errorMessage,
          retry.uncertain,
          outboxMoveTo('retry-later'),
          outboxMoveFrom('retry-later'),
          attempt,
        ],
      );
      const attempts = rows.at(0)?.attempts;
      if (attempts === undefined) return null;
      await this.log(manager, id, attempts, {
        status: 'pending',
        source: 'worker',
        applied: true,
        errorCode: retry.errorCode,
        errorMessage: retry.errorMessage,
      });
      return attempts;
    });
  }

  /** An admin's retry: a failed message with a retryable last error gets a fresh set of attempts. */
  async retryFailed(id: string, extraAttempts: number): Promise<number | null> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await returning<{ attempts: number }>(
        manager,
        `UPDATE whatsapp_messages
            SET status = $3, max_attempts = attempts + $2, error_code = NULL, error_message = NULL,
                failed_at = NULL, last_error_retryable = false, next_attempt_at = NULL,
                updated_at = now()
          WHERE id = $1 AND status = ANY($4) AND last_error_retryable
          RETURNING attempts`,
        [id, extraAttempts, outboxMoveTo('admin-retry'), outboxMoveFrom('admin-retry')],
      );
      const attempts = rows.at(0)?.attempts;
      if (attempts === undefined) return null;
      await this.log(manager, id, attempts, { status: 'pending', source: 'api', applied: true });
      return attempts;
    });
  }

  /** Rows a worker should hold but whose job may be gone (Redis flushed, enqueue failed, worker died). */
  findDue(graceMs: number, staleMs: number, limit: number): Promise<DueMessage[]> {
    return this.dataSource.query<DueMessage[]>(
      `SELECT id, attempts FROM whatsapp_messages
        WHERE (status = 'pending'
               AND COALESCE(next_attempt_at, created_at) < now() - $1 * interval '1 millisecond')
           OR (status = 'dispatching' AND dispatch_started_at < now() - $2 * interval '1 millisecond')
        ORDER BY COALESCE(next_attempt_at, created_at)
        LIMIT $3`,
      [graceMs, staleMs, limit],
    );
  }

  /**
   * True when ANOTHER message holds this SID (the double-send guard must not adopt it); the
   * message's own SID, left by an attempt that finished after a takeover, is its to adopt.
   */
  async sidTaken(twilioSid: string, exceptId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      'SELECT 1 FROM whatsapp_messages WHERE twilio_sid = $1 AND id <> $2',
      [twilioSid, exceptId],
    );
    return rows.length > 0;
  }

  /** The move's log row, keyed by its attempt; a repeat of the same move adds nothing. */
  private async log(
    manager: EntityManager,
    messageId: string,
    attempt: number,
    entry: {
      status: string;
      source: 'api' | 'worker';
      applied: boolean;
      twilioSid?: string;
      errorCode?: number | null;
      errorMessage?: string | null;
    },
  ): Promise<void> {
    await manager.query(
      `INSERT INTO message_status_logs
         (message_id, twilio_sid, status, error_code, error_message, source, applied, attempt)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT DO NOTHING`,
      [
        messageId,
        entry.twilioSid ?? null,
        entry.status,
        entry.errorCode ?? null,
        entry.errorMessage ?? null,
        entry.source,
        entry.applied,
        attempt,
      ],
    );
  }
}
