import type { DataSource, EntityManager } from 'typeorm';
import { returning } from '../../src/database/returning';
import type {
  EventResult,
  StageTimes,
  StatusEvent,
} from '../../src/modules/delivery/delivery.types';
import {
  decideTransition,
  isFailure,
  OUTBOUND_STATUSES,
  stagesProvedBy,
} from '../../src/modules/delivery/status/status-machine';

/** The statuses an incoming event may replace: the WHERE of this reference's conditional UPDATE. */
function allowedPredecessors(incoming: string): string[] {
  return OUTBOUND_STATUSES.filter((current) => decideTransition(current, incoming).applies);
}

/**
 * The reference for group commit: status events applied one at a time, each in its own
 * transaction, with the statements the service used before batching (lock the target, insert
 * the log row, one conditional UPDATE, mark the row applied). The app writes every event through
 * StatusBatchRepository; status-batch.integration-spec holds a batch to what this gives.
 */
export class OneAtATimeEvents {
  constructor(private readonly dataSource: DataSource) {}

  record(event: StatusEvent): Promise<EventResult> {
    return this.dataSource.transaction((manager) => this.recordIn(manager, event));
  }

  private async recordIn(manager: EntityManager, event: StatusEvent): Promise<EventResult> {
    const at = event.at ?? new Date();
    const target = await this.findTarget(manager, event);
    const logId = await this.insertLog(manager, event, target?.id ?? null, at);
    // A repeated callback changes nothing. The reconciler speaks for the message's current send,
    // so its status still applies when its log row already exists (Twilio's truth, looked at
    // again after an admin's retry sent the message anew).
    const authoritative = event.source === 'reconciler';
    if (logId === null && !(authoritative && target)) {
      return { outcome: 'duplicate', messageId: target?.id ?? null, anomaly: false };
    }
    if (!target) return { outcome: 'orphan', messageId: null, anomaly: false };
    const stages = await this.applyToMessage(manager, target.id, event, at);
    const applied = stages !== null;
    const anomaly = !applied && decideTransition(target.status, event.status).anomaly;
    const result = { messageId: target.id, anomaly, ...(stages ? { stages } : {}) };
    if (logId === null) return { outcome: applied ? 'applied' : 'duplicate', ...result };
    if (applied) {
      await manager.query('UPDATE message_status_logs SET applied = true WHERE id = $1', [logId]);
    }
    return { outcome: applied ? 'applied' : 'logged', ...result };
  }

  private async findTarget(
    manager: EntityManager,
    event: StatusEvent,
  ): Promise<{ id: string; status: string } | null> {
    if (event.messageId !== undefined) {
      const rows = await manager.query<{ id: string; status: string }[]>(
        'SELECT id, status FROM whatsapp_messages WHERE id = $1 FOR UPDATE',
        [event.messageId],
      );
      if (rows.length > 0) return rows[0];
    }
    if (event.twilioSid === undefined) return null;
    const rows = await manager.query<{ id: string; status: string }[]>(
      'SELECT id, status FROM whatsapp_messages WHERE twilio_sid = $1 FOR UPDATE',
      [event.twilioSid],
    );
    return rows[0] ?? null;
  }

  /** The new log row's id, or null when this exact event is already there. */
  private async insertLog(
    manager: EntityManager,
    event: StatusEvent,
    messageId: string | null,
    at: Date,
  ): Promise<string | null> {
    const rows = await manager.query<{ id: string }[]>(
      `INSERT INTO message_status_logs
         (message_id, twilio_sid, status, error_code, error_message, source, applied, payload,
          idempotency_token, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, false, $7, $8, $9)
       ON CONFLICT DO NOTHING RETURNING id`,
      [
        messageId,
        event.twilioSid ?? null,
        event.status,
        event.errorCode ?? null,
        event.errorMessage ?? null,
        event.source,
        event.payload ?? null,
        event.idempotencyToken ?? null,
        at,
      ],
    );
    return rows[0]?.id ?? null;
  }

  private async applyToMessage(
    manager: EntityManager,
    messageId: string,
    event: StatusEvent,
    at: Date,
  ): Promise<StageTimes | null> {
    const allowed = allowedPredecessors(event.status);
    if (allowed.length === 0) return null;
    // Stage timestamps are set once, from the first event that proves them.
    const stages = stagesProvedBy(event.status).map(
      (column) => `${column} = COALESCE(${column}, $4)`,
    );
    const failure = isFailure(event.status);
    const rows = await returning<StageTimes>(
      manager,
      `UPDATE whatsapp_messages
          SET status = $2,
              twilio_sid = COALESCE(twilio_sid, $5),
              ${failure ? 'error_code = $6, error_message = $7,' : ''}
              ${stages.map((stage) => `${stage},`).join(' ')}
              updated_at = now()
        WHERE id = $1 AND status = ANY($3)
        RETURNING accepted_at AS "acceptedAt", sent_at AS "sentAt", delivered_at AS "deliveredAt",
                  read_at AS "readAt"`,
      [
        messageId,
        event.status,
        allowed,
        at,
        event.twilioSid ?? null,
        ...(failure ? [event.errorCode ?? null, event.errorMessage ?? null] : []),
      ],
    );
    return rows.at(0) ?? null;
  }
}
