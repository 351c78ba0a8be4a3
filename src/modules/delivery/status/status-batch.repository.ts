import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EventResult, StatusEvent } from '../delivery.types';
import { applyEvent, reconciled, type MessageState } from './message-moves';
import { MessageWriter, stageTimesOf, type LockedMessages } from './message-writer';
import { eventOrder } from './status-machine';

/**
 * Applies a batch of status events (callbacks, the reconciler's looks) the one way
 * (MessageWriter), in ONE transaction with multi-row statements: lock the target messages, insert
 * every log row at once (the unique indexes decide duplicates, as for one event), decide each
 * event on the locked row with the state machine (message-moves.ts `applyEvent`) — several
 * events for one message in `eventOrder` — then one plain statement stores every row that moved
 * and marks the log rows that applied. The outcomes are those of applying the same events one at
 * a time in that order (an integration property test holds it to that).
 */
@Injectable()
export class StatusBatchRepository {
  constructor(private readonly writer: MessageWriter) {}

  record(events: readonly StatusEvent[]): Promise<EventResult[]> {
    const keys = {
      ids: events.flatMap((event) => event.messageId ?? []),
      sids: events.flatMap((event) => event.twilioSid ?? []),
    };
    return this.writer.run(keys, (locked, manager) => this.decide(locked, manager, events));
  }

  /** The reconciler looked at these messages but Twilio gave no answer: marked looked at. */
  markReconciled(ids: readonly string[]): Promise<void> {
    return this.writer.run({ ids }, (locked) => {
      for (const id of ids) {
        const row = locked.get(id);
        if (row) locked.set(reconciled(row, locked.now));
      }
    });
  }

  private async decide(
    locked: LockedMessages,
    manager: EntityManager,
    events: readonly StatusEvent[],
  ): Promise<EventResult[]> {
    const at = events.map((event) => (event.at ?? new Date()).toISOString());
    const targetOf = events.map((event) => targetId(event, locked));
    // Everything below goes in event order, the log rows included: when two events compete for
    // one unique key (a repeated token), the one applied first keeps it, as one at a time.
    const order = events
      .map((_event, index) => index)
      .sort((a, b) => eventOrder(events[a].status) - eventOrder(events[b].status) || a - b);
    const logIds = await this.insertLogs(manager, events, targetOf, at, order);

    const results: EventResult[] = new Array<EventResult>(events.length);
    for (const index of order) {
      const event = events[index];
      const id = targetOf[index];
      const logId = logIds[index];
      // A repeated callback changes nothing; the reconciler speaks for the current send, so its
      // look still applies when the same status was logged before (after an admin's retry).
      const authoritative = event.source === 'reconciler';
      if (logId === null && !(authoritative && id)) {
        results[index] = { outcome: 'duplicate', messageId: id, anomaly: false };
        continue;
      }
      if (id === null) {
        results[index] = { outcome: 'orphan', messageId: null, anomaly: false };
        continue;
      }
      const before = locked.get(id) as MessageState;
      const move = applyEvent(before, event, at[index]);
      if (move.applied) locked.changed(before, move.row, at[index]);
      if (event.reconciled) locked.set(reconciled(locked.get(id) as MessageState, locked.now));
      if (move.applied && logId !== null) locked.appliedLogIds.push(logId);
      results[index] = {
        outcome: move.applied ? 'applied' : logId === null ? 'duplicate' : 'logged',
        messageId: id,
        anomaly: move.anomaly,
      };
    }
    // Stage times after the whole batch, as the one statement leaves them.
    for (const result of results) {
      if (result.outcome === 'applied' && result.messageId !== null) {
        result.stages = stageTimesOf(locked.get(result.messageId) as MessageState);
      }
    }
    return results;
  }

  /** Every event's log row in one INSERT; the id of the row each event added, or null. */
  private async insertLogs(
    manager: EntityManager,
    events: readonly StatusEvent[],
    targetOf: readonly (string | null)[],
    at: readonly string[],
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
        order.map((index) => targetOf[index]),
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
}

/** The message an event is for: by our id when it names one we have, else by its SID. */
function targetId(event: StatusEvent, locked: LockedMessages): string | null {
  const byId = event.messageId === undefined ? null : locked.get(event.messageId);
  if (byId) return byId.id;
  return event.twilioSid === undefined ? null : (locked.bySid(event.twilioSid)?.id ?? null);
}
