import type { MigrationInterface, QueryRunner } from 'typeorm';

// When the reconciler last asked Twilio about a message: a delivered message is looked at once
// more for a lost `read` (RECONCILE_READ=on), and not again after that.
export class AddReconciledAt1795745000000 implements MigrationInterface {
  name = 'AddReconciledAt1795745000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE whatsapp_messages ADD COLUMN reconciled_at timestamptz');
    // The reconciler's and the stuck gauge's look-up: outbound messages not final yet.
    await queryRunner.query(`
      CREATE INDEX whatsapp_messages_open_idx ON whatsapp_messages (updated_at)
      WHERE direction = 'outbound' AND status NOT IN ('delivered', 'read', 'failed', 'undelivered', 'canceled')`);
    await queryRunner.query(
      'CREATE INDEX message_status_logs_received_idx ON message_status_logs (received_at)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX message_status_logs_received_idx');
    await queryRunner.query('DROP INDEX whatsapp_messages_open_idx');
    await queryRunner.query('ALTER TABLE whatsapp_messages DROP COLUMN reconciled_at');
  }
}
