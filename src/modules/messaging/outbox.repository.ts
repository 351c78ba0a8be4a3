import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { returning } from '../../database/returning';

export interface NewOutboundMessage {
  from: string | null;
  to: string;
  body: string | null;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  mediaUrls: string[];
  reference: string | null;
  metadata: Record<string, unknown> | null;
  createdBy: string;
  idempotencyKey: string | null;
  maxAttempts: number;
}

export interface ClaimedMessage {
  id: string;
  from: string | null;
  to: string;
  body: string | null;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  mediaUrls: string[];
  attempts: number;
  maxAttempts: number;
  /** Set when an earlier attempt may have reached Twilio: look it up from then before sending. */
  uncertainSince: Date | null;
}

export interface DueMessage {
  id: string;
  attempts: number;
}

/** The outbox side of whatsapp_messages: rows waiting for, or held by, a worker. */
@Injectable()
export class OutboxRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inserts the row (`pending`) and its `pending` log row; `then` runs in the same transaction. */
  async insertPending(
    message: NewOutboundMessage,
    then?: (manager: EntityManager, id: string) => Promise<void>,
  ): Promise<string> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = await manager.query<{ id: string }[]>(
        `INSERT INTO whatsapp_messages
           (direction, "from", "to", body, content_sid, content_variables, media_urls, reference,
            metadata, status, created_by, idempotency_key, max_attempts)
         VALUES ('outbound', $1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11)
         RETURNING id`,
        [
          message.from,
          message.to,
          message.body,
          message.contentSid,
          message.contentVariables === null ? null : JSON.stringify(message.contentVariables),
          JSON.stringify(message.mediaUrls),
          message.reference,
          message.metadata === null ? null : JSON.stringify(message.metadata),
          message.createdBy,
          message.idempotencyKey,
          message.maxAttempts,
        ],
      );
      await manager.query(
        `INSERT INTO message_status_logs (message_id, status, source, applied) VALUES ($1, 'pending', 'api', true)`,
        [row.id],
      );
      await then?.(manager, row.id);
      return row.id;
    });
  }

  /**
   * One conditional UPDATE: `pending` → `dispatching` (or a `dispatching` row whose worker died),
   * attempts + 1. Null when another worker holds it or it moved on: the job then does nothing.
   */
  async claimForSend(id: string, staleMs: number): Promise<ClaimedMessage | null> {
    const rows = await returning<
      Omit<ClaimedMessage, 'uncertainSince'> & { previous: Date | null }
    >(
      this.dataSource,
      `UPDATE whatsapp_messages m
          SET status = 'dispatching', attempts = m.attempts + 1, updated_at = now(),
              dispatch_started_at = COALESCE(old.previous, now()), next_attempt_at = NULL
         FROM (SELECT id, dispatch_started_at AS previous FROM whatsapp_messages WHERE id = $1 FOR UPDATE) old
        WHERE m.id = old.id
          AND (m.status = 'pending'
               OR (m.status = 'dispatching' AND m.dispatch_started_at < now() - $2 * interval '1 millisecond'))
        RETURNING m.id, m."from", m."to", m.body, m.content_sid AS "contentSid",
                  m.content_variables AS "contentVariables", m.media_urls AS "mediaUrls",
                  m.attempts, m.max_attempts AS "maxAttempts", old.previous`,
      [id, staleMs],
    );
    const row = rows.at(0);
    if (!row) return null;
    const { previous, ...rest } = row;
    return { ...rest, uncertainSince: previous };
  }

  /**
   * Twilio has the message: keep its SID. Runs inside the transaction that applies Twilio's
   * status through the state machine, so the two never land apart.
   */
  async storeSid(manager: EntityManager, id: string, sid: string): Promise<void> {
    await manager.query(
      `UPDATE whatsapp_messages
          SET twilio_sid = COALESCE(twilio_sid, $2), dispatch_started_at = NULL,
              error_code = CASE WHEN status = 'dispatching' THEN NULL ELSE error_code END,
              error_message = CASE WHEN status = 'dispatching' THEN NULL ELSE error_message END,
              last_error_retryable = false, updated_at = now()
        WHERE id = $1`,
      [id, sid],
    );
  }

  /** Back to `pending` for a later attempt; `uncertain` keeps the look-before-resending mark. */
  async scheduleRetry(
    id: string,
    retry: { delayMs: number; errorCode: number | null; errorMessage: string; uncertain: boolean },
  ): Promise<number | null> {
    const rows = await returning<{ attempts: number }>(
      this.dataSource,
      `UPDATE whatsapp_messages
          SET status = 'pending', next_attempt_at = now() + $2 * interval '1 millisecond',
              error_code = $3, error_message = $4,
              dispatch_started_at = CASE WHEN $5 THEN dispatch_started_at ELSE NULL END,
              updated_at = now()
        WHERE id = $1 AND status = 'dispatching'
        RETURNING attempts`,
      [id, retry.delayMs, retry.errorCode, retry.errorMessage, retry.uncertain],
    );
    return rows[0]?.attempts ?? null;
  }

  /**
   * With the `failed` event, in its transaction: remember whether an operator's retry makes
   * sense.
   */
  async prepareFailure(manager: EntityManager, id: string, retryable: boolean): Promise<void> {
    await manager.query(
      `UPDATE whatsapp_messages SET last_error_retryable = $2, dispatch_started_at = NULL WHERE id = $1`,
      [id, retryable],
    );
  }

  /** An admin's retry: a failed message with a retryable last error gets a fresh set of attempts. */
  async resetForRetry(id: string, extraAttempts: number): Promise<number | null> {
    const rows = await returning<{ attempts: number }>(
      this.dataSource,
      `UPDATE whatsapp_messages
          SET status = 'pending', max_attempts = attempts + $2, error_code = NULL, error_message = NULL,
              failed_at = NULL, last_error_retryable = false, next_attempt_at = NULL, updated_at = now()
        WHERE id = $1 AND status = 'failed' AND last_error_retryable
        RETURNING attempts`,
      [id, extraAttempts],
    );
    return rows[0]?.attempts ?? null;
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
}
