import type { MigrationInterface, QueryRunner } from 'typeorm';

// Catch-up after our own faults. `service_heartbeats`: one row per role (api, worker), its last
// beat on the database's clock; a beat that finds the previous one too old has found a gap (no
// process of that role alive, or none able to reach the database). `reconcile_catchups`: the
// windows in which callbacks may have been lost (a heartbeat gap, PostgreSQL or Redis away, the
// api shedding or stalled); the reconciler looks, soon, at the messages that could have had a
// callback in one, each window taken with a lease and closed once done.
export class CatchUps1795752000000 implements MigrationInterface {
  name = 'CatchUps1795752000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE service_heartbeats (
        role text PRIMARY KEY,
        beat_at timestamptz NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE reconcile_catchups (
        id bigserial PRIMARY KEY,
        reason text NOT NULL,
        gap_from timestamptz NOT NULL,
        gap_to timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        done_at timestamptz,
        checked integer NOT NULL DEFAULT 0,
        CHECK (gap_from <= gap_to)
      )`);
    await queryRunner.query(
      'CREATE INDEX reconcile_catchups_open ON reconcile_catchups (id) WHERE done_at IS NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE reconcile_catchups');
    await queryRunner.query('DROP TABLE service_heartbeats');
  }
}
