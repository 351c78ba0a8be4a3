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
   * that commits at once: outbound, with a SID, not final and untouched for `afterSeconds` (or,
   * with `read`, delivered without a read we have not looked for since), whose lease (if any) has
   * run out, and not looked at since `passStartedAt` — the ones looked at least recently first,
   * then oldest first. Rows a writer holds right now are skipped (SKIP LOCKED), never waited for:
   * a later pass takes them. Two replicas never lease the same message while a lease runs.
   */
  leaseDue(options: {
    afterSeconds: number;
    read: boolean;
    limit: number;
    leaseMs: number;
    passStartedAt: Timestamp | null;
  }): Promise<LeasedMessage[]> {
    return returning<LeasedMessage>(
      this.dataSource,
      `UPDATE whatsapp_messages
          SET reconcile_lease_until = now() + $4 * interval '1 millisecond'
        WHERE id IN (
          SELECT id FROM whatsapp_messages
           WHERE direction = 'outbound' AND twilio_sid IS NOT NULL
             AND ((${notFinalSql()}
                   AND updated_at < now() - $1 * interval '1 second')
               OR ($2 AND status = 'delivered' AND read_at IS NULL
                   AND delivered_at < now() - $1 * interval '1 second'
                   AND (reconciled_at IS NULL OR reconciled_at < delivered_at)))
             AND (reconcile_lease_until IS NULL OR reconcile_lease_until < now())
             AND ($5::timestamptz IS NULL OR reconciled_at IS NULL OR reconciled_at < $5)
           ORDER BY reconciled_at NULLS FIRST, created_at
           LIMIT $3
             FOR UPDATE SKIP LOCKED)
        RETURNING id, twilio_sid AS sid, to_json(now()) #>> '{}' AS "leasedAt"`,
      [options.afterSeconds, options.read, options.limit, options.leaseMs, options.passStartedAt],
    );
  }
}
