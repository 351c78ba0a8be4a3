import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** What retention deletes or clears, one bounded batch per statement. */
@Injectable()
export class RetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Clears up to `limit` raw callback payloads older than `days`; how many it cleared. */
  async clearPayloads(days: number, limit: number): Promise<number> {
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      `UPDATE message_status_logs SET payload = NULL
        WHERE id IN (SELECT id FROM message_status_logs
                      WHERE payload IS NOT NULL AND received_at < now() - $1 * interval '1 day'
                      LIMIT $2)`,
      [days, limit],
    );
    return affected;
  }

  /**
   * Deletes up to `limit` events older than `days`, oldest first (ids grow with time, so the
   * primary key finds them without an index of its own); how many it deleted.
   */
  async deleteEvents(days: number, limit: number): Promise<number> {
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      `DELETE FROM events
        WHERE id IN (SELECT id FROM events WHERE created_at < now() - $1 * interval '1 day'
                      ORDER BY id LIMIT $2)`,
      [days, limit],
    );
    return affected;
  }
}
