import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { returning } from '../../../database/returning';
import type { Timestamp } from '../status/message-moves';
import { notFinalSql } from '../status/status-machine';

/** A message the reconciler holds a lease on, to ask Twilio about. */
export interface LeasedMessage {
  id: string;
  sid: string;
  /** The lease statement's `now()`: a pass never leases a message it already looked at. */
  leasedAt: Timestamp;
}

/**
 * The reconciler's selection: which messages are due for a look at Twilio, each taken with a
 * lease (`reconcile_lease_until`) instead of a lock, so nothing is held while Twilio answers.
 */
@Injectable()
export class ReconcileRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Up to `limit` due messages, leased for `leaseMs` on the database's clock, in ONE statement
   * that commits at once: outbound, with a SID, whose lease (if any) has run out, not looked at
   * since `passStartedAt`, and due by `reconcileDueSql` (or, with `read`, delivered without a
   * read we have not looked for since) — the ones looked at least recently first, then oldest.
   * Rows a writer holds right now are skipped (SKIP LOCKED), never waited for: a later pass takes
   * them. Two replicas never lease the same message while a lease runs.
   */
  leaseDue(options: {
    afterSeconds: number;
    backoffSeconds: readonly number[];
    giveUpSeconds: number;
    read: boolean;
    limit: number;
    leaseMs: number;
    passStartedAt: Timestamp | null;
  }): Promise<LeasedMessage[]> {
    return this.lease(
      `((${notFinalSql()}
          AND ${reconcileDueSql(options.afterSeconds, options.backoffSeconds, options.giveUpSeconds)})
        OR ($2 AND status = 'delivered' AND read_at IS NULL
            AND delivered_at < now() - $1 * interval '1 second'
            AND (reconciled_at IS NULL
                 OR reconciled_at < delivered_at + $1 * interval '1 second')))
       AND ($5::timestamptz IS NULL OR reconciled_at IS NULL OR reconciled_at < $5)`,
      'reconciled_at NULLS FIRST, created_at',
      [options.afterSeconds, options.read, options.limit, options.leaseMs, options.passStartedAt],
    );
  }

  /**
   * Up to `limit` messages that could have missed a callback in a catch-up window, leased like
   * leaseDue's: outbound, with a SID, created by the window's end, not looked at since then, and
   * either not final and changed since `lookbackSeconds` before the window, or delivered without
   * a read since `readLookbackSeconds` before it (a `read` lost to our fault is ours to heal,
   * RECONCILE_READ or not; the shorter lookback keeps the many messages whose reads never come —
   * receipts turned off — out of it). Oldest first. Taking them again finds fewer each time: a
   * look marks them (`reconciled_at` after the window).
   */
  leaseInWindow(options: {
    from: Date;
    to: Date;
    lookbackSeconds: number;
    readLookbackSeconds: number;
    limit: number;
    leaseMs: number;
  }): Promise<LeasedMessage[]> {
    return this.lease(
      `created_at <= $2
       AND ((${notFinalSql()} AND ${CHANGED_AT} >= $1::timestamptz - $5 * interval '1 second')
         OR (status = 'delivered' AND read_at IS NULL
             AND delivered_at >= $1::timestamptz - $6 * interval '1 second'))
       AND (reconciled_at IS NULL OR reconciled_at < $2)`,
      'created_at',
      [
        options.from,
        options.to,
        options.limit,
        options.leaseMs,
        options.lookbackSeconds,
        options.readLookbackSeconds,
      ],
    );
  }

  /**
   * Leases, in ONE statement that commits at once, up to $3 outbound messages with a SID that
   * match `where` and hold no running lease, in `orderBy` order, for $4 ms on the database's clock;
   * rows a writer holds are skipped (SKIP LOCKED). The selection's parameters are $1, $2, $5….
   */
  private lease(where: string, orderBy: string, parameters: unknown[]): Promise<LeasedMessage[]> {
    return returning<LeasedMessage>(
      this.dataSource,
      `UPDATE whatsapp_messages
          SET reconcile_lease_until = now() + $4 * interval '1 millisecond'
        WHERE id IN (
          SELECT id FROM whatsapp_messages
           WHERE direction = 'outbound' AND twilio_sid IS NOT NULL
             AND (reconcile_lease_until IS NULL OR reconcile_lease_until < now())
             AND ${where}
           ORDER BY ${orderBy}
           LIMIT $3
             FOR UPDATE SKIP LOCKED)
        RETURNING id, twilio_sid AS sid, to_json(now()) #>> '{}' AS "leasedAt"`,
      parameters,
    );
  }

  /**
   * Gives leases back without a look (Twilio asked us to slow down, or did not answer): the
   * messages are due again at once, not a backoff step later.
   */
  async release(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(
      `UPDATE whatsapp_messages SET reconcile_lease_until = NULL WHERE id = ANY($1::uuid[])`,
      [ids],
    );
  }
}

/** A message's last change: its creation or a stage reached. */
const CHANGED_AT = 'greatest(created_at, accepted_at, sent_at, delivered_at, read_at, failed_at)';

/**
 * When a message that is not final is due for a look, as SQL over its row (selection, built
 * from numbers; no status rule): its first look comes `after` seconds after its last change
 * (creation or a stage reached); each later look one gap after the previous one, the gap growing
 * with how long it had stayed unchanged by then — the schedule's points are `after`, then
 * `after` + each gap in turn, the last gap repeating — and none once it is `giveUp` seconds old.
 * A callback Twilio lost is healed within minutes; a phone off for days costs a handful of
 * fetches.
 */
export function reconcileDueSql(after: number, backoff: readonly number[], giveUp: number): string {
  const int = (value: number) => String(Math.max(0, Math.floor(value)));
  const changedAt = CHANGED_AT;
  // Unchanged for less than point k when last looked at → the next gap is backoff[k].
  let point = after;
  const cases = backoff.slice(0, -1).map((gap) => {
    point += gap;
    return `WHEN reconciled_at - ${changedAt} < ${int(point)} * interval '1 second' THEN ${int(gap)}`;
  });
  const last = int(backoff.at(-1) ?? 86_400);
  const gap = cases.length === 0 ? last : `(CASE ${cases.join(' ')} ELSE ${last} END)`;
  // A look before `after` (a catch-up's, seconds after the change) is not the first look: that
  // one still comes `after` the change, so an early look never delays the healing of a lost one.
  return `(created_at > now() - ${int(giveUp)} * interval '1 second'
      AND CASE WHEN reconciled_at IS NULL
                 OR reconciled_at < ${changedAt} + ${int(after)} * interval '1 second'
               THEN ${changedAt} < now() - ${int(after)} * interval '1 second'
               ELSE reconciled_at < now() - ${gap} * interval '1 second'
          END)`;
}
