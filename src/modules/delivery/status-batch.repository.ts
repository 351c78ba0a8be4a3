import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { returning } from '../../database/returning';
import type { StageTimes } from './delivery-metrics.service';
import type { EventResult, StatusEvent } from './delivery.types';
import {
  decideTransition,
  eventOrder,
  isFailure,
  STAGE_COLUMNS,
  stagesProvedBy,
  type StageColumn,
} from './status-machine';

interface Target {
  id: string;
  status: string;
  sid: string | null;
}

/** What one message's row becomes after the batch's events for it. */
interface MessageChange {
  id: string;
  expected: string;
  status: string;
  sid: string | null;
  errorCode: number | null;
  errorMessage: string | null;
  failure: boolean;
  stages: Partial<Record<StageColumn, Date>>;
}

/**
 * Applies a batch of status events in ONE transaction with multi-row statements: lock the
 * target messages (in id order, so concurrent batches never deadlock on them), insert every
 * log row at once (the unique indexes decide duplicates, as for one event), decide each event
 * with the state machine in memory — several events for one message in `eventOrder` — then
 * one statement that moves every message that moves (still conditional on the status it was
 * locked in) and marks the log rows that applied. The outcomes are those of applying the same
 * events one at a time in that order (an integration property test holds it to that).
 */
@Injectable()
export class StatusBatchRepository {
  constructor(private readonly dataSource: DataSource) {}

  record(events: readonly StatusEvent[]): Promise<EventResult[]> {
    return this.dataSource.transaction((manager) => this.recordIn(manager, events));
  }

  private async recordIn(
    manager: EntityManager,
    events: readonly StatusEvent[],
  ): Promise<EventResult[]> {
    const at = events.map((event) => event.at ?? new Date());
    const targets = await this.lockTargets(manager, events);
    const targetOf = events.map((event) => resolveTarget(event, targets));
    // Everything below goes in event order, the log rows included: when two events compete for
    // one unique key (a repeated token), the one applied first keeps it, as one at a time.
    const order = events
      .map((_event, index) => index)
      .sort((a, b) => eventOrder(events[a].status) - eventOrder(events[b].status) || a - b);
    const logIds = await this.insertLogs(manager, events, targetOf, at, order);

    // In memory, per message: what applies.
    const changes = new Map<string, MessageChange>();
    const results: EventResult[] = new Array<EventResult>(events.length);
    const applied: number[] = [];
    for (const index of order) {
      const event = events[index];
      const target = targetOf[index];
      const logId = logIds[index];
      const authoritative = event.source === 'worker' || event.source === 'reconciler';
      if (logId === null && !(authoritative && target)) {
        results[index] = { outcome: 'duplicate', messageId: target?.id ?? null, anomaly: false };
        continue;
      }
      if (!target) {
        results[index] = { outcome: 'orphan', messageId: null, anomaly: false };
        continue;
      }
      const change = changes.get(target.id) ?? newChange(target);
      const decision = decideTransition(change.status, event.status);
      if (decision.applies) {
        change.status = event.status;
        change.sid = change.sid ?? event.twilioSid ?? null;
        if (isFailure(event.status)) {
          change.failure = true;
          change.errorCode = event.errorCode ?? null;
          change.errorMessage = event.errorMessage ?? null;
        }
        for (const column of stagesProvedBy(event.status)) change.stages[column] ??= at[index];
        changes.set(target.id, change);
        if (logId !== null) applied.push(index);
      }
      const anomaly = !decision.applies && decision.anomaly;
      results[index] = {
        outcome: decision.applies ? 'applied' : logId === null ? 'duplicate' : 'logged',
        messageId: target.id,
        anomaly,
      };
    }

    const appliedIds = applied.map((index) => logIds[index]).filter((id) => id !== null);
    const stagesAfter = await this.applyChanges(manager, [...changes.values()], appliedIds);
    for (const result of results) {
      if (result.outcome === 'applied' && result.messageId !== null) {
        const stages = stagesAfter.get(result.messageId);
        if (stages) result.stages = stages;
      }
    }
    return results;
  }

  private async lockTargets(
    manager: EntityManager,
    events: readonly StatusEvent[],
  ): Promise<{ byId: Map<string, Target>; bySid: Map<string, Target> }> {
    const ids = [...new Set(events.flatMap((event) => event.messageId ?? []))];
    const sids = [...new Set(events.flatMap((event) => event.twilioSid ?? []))];
    const rows = await manager.query<Target[]>(
      `SELECT id, status, twilio_sid AS sid FROM whatsapp_messages
        WHERE id = ANY($1::uuid[]) OR twilio_sid = ANY($2::text[])
        ORDER BY id FOR UPDATE`,
      [ids, sids],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    const bySid = new Map(rows.flatMap((row) => (row.sid === null ? [] : [[row.sid, row]])));
    return { byId, bySid };
  }

  /** Every event's log row in one INSERT; the id of the row each event added, or null. */
  private async insertLogs(
    manager: EntityManager,
    events: readonly StatusEvent[],
    targetOf: readonly (Target | null)[],
    at: readonly Date[],
    order: readonly number[],
  ): Promise<(string | null)[]> {
    // A row that several events of the batch share goes to the first of them (lowest ord).
    const rows = await manager.query<{ id: string; ord: string }[]>(
      `WITH input AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[],
                              $6::text[], $7::jsonb[], $8::text[], $9::timestamptz[])
                  WITH ORDINALITY AS u(message_id, twilio_sid, status, error_code, error_message,
                                       source, payload, idempotency_token, received_at, ord)
       ), inserted AS (
         INSERT INTO message_status_logs
           (message_id, twilio_sid, status, error_code, error_message, source, applied, payload,
            idempotency_token, received_at)
         SELECT message_id, twilio_sid, status, error_code, error_message, source, false, payload,
                idempotency_token, received_at
           FROM input ORDER BY ord
         ON CONFLICT DO NOTHING
         RETURNING id, message_id, twilio_sid, status, error_code, idempotency_token
       )
       SELECT DISTINCT ON (inserted.id) inserted.id, input.ord
         FROM inserted JOIN input
           ON inserted.message_id IS NOT DISTINCT FROM input.message_id
          AND inserted.twilio_sid IS NOT DISTINCT FROM input.twilio_sid
          AND inserted.status = input.status
          AND inserted.error_code IS NOT DISTINCT FROM input.error_code
          AND inserted.idempotency_token IS NOT DISTINCT FROM input.idempotency_token
        ORDER BY inserted.id, input.ord`,
      [
        order.map((index) => targetOf[index]?.id ?? null),
        order.map((index) => events[index].twilioSid ?? null),
        order.map((index) => events[index].status),
        order.map((index) => events[index].errorCode ?? null),
        order.map((index) => events[index].errorMessage ?? null),
        order.map((index) => events[index].source),
        order.map((index) => {
          const { payload } = events[index];
          return payload === undefined ? null : JSON.stringify(payload);
        }),
        order.map((index) => events[index].idempotencyToken ?? null),
        order.map((index) => at[index]),
      ],
    );
    const ids: (string | null)[] = new Array<string | null>(events.length).fill(null);
    for (const row of rows) ids[order[Number(row.ord) - 1]] = row.id;
    return ids;
  }

  /**
   * One statement: a conditional UPDATE for every message that moves, and the log rows that
   * applied marked so; the moved messages' stage times after. (An applied log row always comes
   * with a change, so there is nothing to mark without one.)
   */
  private async applyChanges(
    manager: EntityManager,
    changes: readonly MessageChange[],
    appliedLogIds: readonly string[],
  ): Promise<Map<string, StageTimes>> {
    if (changes.length === 0) return new Map();
    const stage = (column: StageColumn) => changes.map((change) => change.stages[column] ?? null);
    const rows = await returning<StageTimes & { id: string }>(
      manager,
      `WITH marked AS (
         UPDATE message_status_logs SET applied = true WHERE id = ANY($13)
       )
       UPDATE whatsapp_messages m
          SET status = v.status,
              twilio_sid = COALESCE(m.twilio_sid, v.sid),
              error_code = CASE WHEN v.failure THEN v.error_code ELSE m.error_code END,
              error_message = CASE WHEN v.failure THEN v.error_message ELSE m.error_message END,
              ${STAGE_COLUMNS.map((column) => `${column} = COALESCE(m.${column}, v.${column})`).join(',\n              ')},
              updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::boolean[], $6::int[],
                     $7::text[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[],
                     $11::timestamptz[], $12::timestamptz[])
              AS v(id, expected, status, sid, failure, error_code, error_message,
                   ${STAGE_COLUMNS.join(', ')})
        WHERE m.id = v.id AND m.status = v.expected
        RETURNING m.id, m.accepted_at AS "acceptedAt", m.sent_at AS "sentAt",
                  m.delivered_at AS "deliveredAt", m.read_at AS "readAt"`,
      [
        changes.map((change) => change.id),
        changes.map((change) => change.expected),
        changes.map((change) => change.status),
        changes.map((change) => change.sid),
        changes.map((change) => change.failure),
        changes.map((change) => change.errorCode),
        changes.map((change) => change.errorMessage),
        ...STAGE_COLUMNS.map(stage),
        appliedLogIds,
      ],
    );
    return new Map(rows.map(({ id, ...stages }) => [id, stages]));
  }
}

function resolveTarget(
  event: StatusEvent,
  targets: { byId: Map<string, Target>; bySid: Map<string, Target> },
): Target | null {
  const byId = event.messageId === undefined ? undefined : targets.byId.get(event.messageId);
  if (byId) return byId;
  return event.twilioSid === undefined ? null : (targets.bySid.get(event.twilioSid) ?? null);
}

function newChange(target: Target): MessageChange {
  return {
    id: target.id,
    expected: target.status,
    status: target.status,
    sid: null,
    errorCode: null,
    errorMessage: null,
    failure: false,
    stages: {},
  };
}
