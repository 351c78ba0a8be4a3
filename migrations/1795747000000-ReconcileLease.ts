import type { MigrationInterface, QueryRunner } from 'typeorm';

// The reconciler leases the messages it is about to look at instead of holding a transaction
// (and an advisory lock) open while Twilio answers: a replica sets `reconcile_lease_until` in one
// committed statement, fetches, then writes the answer and clears it. Another replica skips a
// message while its lease runs. NULL: nobody is looking at it.
export class ReconcileLease1795747000000 implements MigrationInterface {
  name = 'ReconcileLease1795747000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE whatsapp_messages ADD COLUMN reconcile_lease_until timestamptz',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE whatsapp_messages DROP COLUMN reconcile_lease_until');
  }
}
