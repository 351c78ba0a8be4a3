import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  adminRetry,
  answer,
  claim,
  millisOf,
  retryLater,
  sendFailure,
} from '../status/message-moves';
import { MessageWriter, stageTimesOf, type SendPayload } from '../status/message-writer';
import type {
  ClaimedMessage,
  DueMessage,
  MoveResult,
  NewOutboundMessage,
  TwilioAnswer,
} from '../delivery.types';

/**
 * The outbox side of whatsapp_messages: new sends, and the moves of a message that no Twilio
 * callback makes. Each move is written the one way (MessageWriter: lock, decide in
 * message-moves.ts, one plain statement) with its status-log row, keyed by the attempt it
 * belongs to, so a message's history shows every attempt once and a process killed mid-move
 * leaves the row as it was. The worker's claims and answers come in batches (WorkerBatcher): a
 * batch is one transaction, decided in arrival order, so it gives exactly what the same calls
 * made one at a time would.
 */
@Injectable()
export class OutboxRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly writer: MessageWriter,
  ) {}

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
   * later). A message claimed twice in one batch goes to the first claim; the second finds it
   * held.
   */
  claimForSendMany(
    claims: readonly { id: string; staleMs: number }[],
  ): Promise<(ClaimedMessage | null)[]> {
    const ids = claims.map((one) => one.id);
    return this.writer.run({ ids, payload: true }, (locked) =>
      claims.map(({ id, staleMs }): ClaimedMessage | null => {
        const row = locked.get(id);
        if (row === null) return null;
        const move = locked.apply(claim(row, locked.now, staleMs));
        if (!move.applied) return null;
        const { uncertainSince } = move.row;
        return {
          id: row.id,
          ...(locked.payload(id) as SendPayload),
          attempt: move.row.attempts,
          maxAttempts: move.row.maxAttempts,
          uncertainSince: uncertainSince === null ? null : new Date(millisOf(uncertainSince)),
        };
      }),
    );
  }

  /**
   * Twilio created the message: its SID and its first status, for many workers' answers at once
   * (the status moves for the holder only; the SID stays either way). One result per answer, in
   * order; a stale attempt's and the holder's answer for one message are decided in that order.
   */
  recordAcceptedMany(
    accepted: readonly { id: string; attempt: number; answer: TwilioAnswer }[],
  ): Promise<MoveResult[]> {
    const ids = accepted.map((one) => one.id);
    return this.writer.run({ ids }, (locked) =>
      accepted.map(({ id, attempt, answer: given }): MoveResult => {
        const row = locked.get(id);
        if (row === null) return { applied: false };
        const move = locked.apply(answer(row, attempt, given, locked.now));
        return move.applied
          ? { applied: true, stages: stageTimesOf(move.row) }
          : { applied: false };
      }),
    );
  }

  /**
   * The send failed for good: `failed` where the state machine lets it apply, with the mark that
   * says whether an operator's retry makes sense, and the log row.
   */
  recordSendFailure(
    id: string,
    attempt: number,
    failure: { errorCode: number | null; errorMessage: string; retryable: boolean },
  ): Promise<MoveResult> {
    return this.writer.run({ ids: [id] }, (locked): MoveResult => {
      const row = locked.get(id);
      if (row === null) return { applied: false };
      return { applied: locked.apply(sendFailure(row, attempt, failure, locked.now)).applied };
    });
  }

  /**
   * Back to `pending` for a later attempt, by the attempt that holds the row only: the attempt
   * number, or null when the row moved on.
   */
  scheduleRetry(
    id: string,
    attempt: number,
    retry: { delayMs: number; errorCode: number | null; errorMessage: string; uncertain: boolean },
  ): Promise<number | null> {
    return this.writer.run({ ids: [id] }, (locked) => {
      const row = locked.get(id);
      if (row === null) return null;
      const move = locked.apply(retryLater(row, attempt, retry, locked.now));
      return move.applied ? move.row.attempts : null;
    });
  }

  /** An admin's retry: a failed message with a retryable last error gets a fresh set of attempts. */
  retryFailed(id: string, extraAttempts: number): Promise<number | null> {
    return this.writer.run({ ids: [id] }, (locked) => {
      const row = locked.get(id);
      if (row === null) return null;
      const move = locked.apply(adminRetry(row, extraAttempts));
      return move.applied ? move.row.attempts : null;
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
}
