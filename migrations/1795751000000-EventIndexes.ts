import type { MigrationInterface, QueryRunner } from 'typeorm';

// Two indexes the dispatcher and replays need, built CONCURRENTLY (outside a transaction) so
// writers are never blocked; a build cut short leaves an invalid index, dropped and rebuilt here.
// - events_created_at_brin: rows are appended in time order, so a BRIN index finds a replay's
//   window (`created_at >= since`) for almost nothing per insert (a B-tree would cost every
//   event an index entry).
// - event_deliveries_in_flight_idx: a claim counts its subscription's deliveries in flight; the
//   open-deliveries index would make that a walk over every waiting one.
const INDEXES: [name: string, definition: string][] = [
  ['events_created_at_brin', 'ON events USING brin (created_at)'],
  [
    'event_deliveries_in_flight_idx',
    "ON event_deliveries (subscription_id) WHERE state = 'in_flight'",
  ],
];

export class EventIndexes1795751000000 implements MigrationInterface {
  name = 'EventIndexes1795751000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [name, definition] of INDEXES) {
      const invalid = (await queryRunner.query(
        `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE c.relname = $1 AND NOT i.indisvalid`,
        [name],
      )) as unknown[];
      if (invalid.length > 0) await queryRunner.query(`DROP INDEX CONCURRENTLY ${name}`);
      await queryRunner.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ${definition}`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [name] of INDEXES) await queryRunner.query(`DROP INDEX IF EXISTS ${name}`);
  }
}
