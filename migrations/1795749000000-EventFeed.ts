import type { MigrationInterface, QueryRunner } from 'typeorm';

// The events feed reads in commit order: (xid, id), served only below the oldest transaction
// still running. Built CONCURRENTLY (outside a transaction: `transaction = false`) so a large
// events table keeps taking the writer's inserts while it builds; a build cut short leaves an
// invalid index, which the next run drops and builds again.
export class EventFeed1795749000000 implements MigrationInterface {
  name = 'EventFeed1795749000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    const invalid = (await queryRunner.query(
      `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname = 'events_feed_idx' AND NOT i.indisvalid`,
    )) as unknown[];
    if (invalid.length > 0) await queryRunner.query('DROP INDEX CONCURRENTLY events_feed_idx');
    await queryRunner.query(
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS events_feed_idx ON events (xid, id)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Plain: a rollback may run inside a transaction (the whole set reverted at once).
    await queryRunner.query('DROP INDEX IF EXISTS events_feed_idx');
  }
}
