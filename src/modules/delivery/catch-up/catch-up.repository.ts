import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { returning } from '../../../database/returning';
import { heartbeatGap, sameFault, type FaultWindow } from './fault-windows';

/** A recorded catch-up window, leased by one worker while it looks at its messages. */
export interface CatchUpWindow {
  id: string;
  reason: string;
  from: Date;
  to: Date;
}

// Serialises recording windows across processes, so one fault seen by many is recorded once.
const RECORD_LOCK = 0x77_61_63_75; // "wacu"

/**
 * The catch-up tables (service_heartbeats, reconcile_catchups): beats that find gaps, windows
 * recorded once per fault, leased one at a time and closed when done.
 */
@Injectable()
export class CatchUpRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * One beat of `role`: the previous one locked, the gap (if any) decided by heartbeatGap, the
   * beat and the window written, in one transaction; the window, when a new one was recorded.
   * Concurrent beats of one role wait on the row: only the first after a gap sees it.
   */
  beat(role: string, processStartedAt: Date): Promise<FaultWindow | null> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO service_heartbeats (role, beat_at) VALUES ($1, now()) ON CONFLICT (role) DO NOTHING`,
        [role],
      );
      const [row] = await manager.query<{ beat_at: Date; now: Date; fresh: boolean }[]>(
        `SELECT beat_at, now() AS now, beat_at = now() AS fresh
           FROM service_heartbeats WHERE role = $1 FOR UPDATE`,
        [role],
      );
      const gap = heartbeatGap(row.fresh ? null : row.beat_at, row.now, processStartedAt);
      await manager.query(`UPDATE service_heartbeats SET beat_at = now() WHERE role = $1`, [role]);
      if (!gap) return null;
      return (await this.recordWith(manager, gap)) ? gap : null;
    });
  }

  /** Records a window unless one already covers the same fault: whether it did. */
  record(window: FaultWindow): Promise<boolean> {
    return this.dataSource.transaction((manager) => this.recordWith(manager, window));
  }

  private async recordWith(
    manager: { query: DataSource['query'] },
    window: FaultWindow,
  ): Promise<boolean> {
    await manager.query('SELECT pg_advisory_xact_lock($1)', [RECORD_LOCK]);
    const recorded = await manager.query<{ from: Date; to: Date }[]>(
      `SELECT gap_from AS "from", gap_to AS "to" FROM reconcile_catchups
        WHERE gap_to >= $1::timestamptz - interval '1 minute' AND gap_from <= $2`,
      [window.from, window.to],
    );
    if (recorded.some((row) => sameFault(window, row))) return false;
    await manager.query(
      `INSERT INTO reconcile_catchups (reason, gap_from, gap_to) VALUES ($1, $2, $3)`,
      [window.reason, window.from, window.to],
    );
    return true;
  }

  /** The oldest open window nobody holds, leased for `leaseMs`; null when there is none. */
  async lease(leaseMs: number): Promise<CatchUpWindow | null> {
    const [window] = await returning<CatchUpWindow>(
      this.dataSource,
      `UPDATE reconcile_catchups SET lease_until = now() + $1 * interval '1 millisecond'
        WHERE id = (SELECT id FROM reconcile_catchups
                     WHERE done_at IS NULL AND (lease_until IS NULL OR lease_until < now())
                     ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id, reason, gap_from AS "from", gap_to AS "to"`,
      [leaseMs],
    );
    return window ?? null;
  }

  /** Extends a held window's lease. */
  async renew(id: string, leaseMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE reconcile_catchups SET lease_until = now() + $2 * interval '1 millisecond' WHERE id = $1`,
      [id, leaseMs],
    );
  }

  /** Closes a window: its messages were looked at. */
  async finish(id: string, checked: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE reconcile_catchups SET done_at = now(), lease_until = NULL, checked = $2 WHERE id = $1`,
      [id, checked],
    );
  }
}
