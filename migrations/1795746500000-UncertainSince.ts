import type { MigrationInterface, QueryRunner } from 'typeorm';

// Two clocks that shared one column. `dispatch_started_at` is now only when the current holder
// claimed the message (the takeover clock); `uncertain_since` is when an attempt may first have
// reached Twilio without us learning the outcome (a dead worker, a timeout, a 5xx), so every later
// attempt looks at Twilio before it creates anything. Sharing them made a taken-over row look
// stale at once (a second worker took it too and could send it again), and a later attempt
// whose failure was certain erased the mark an earlier uncertain one had left.
export class UncertainSince1795746500000 implements MigrationInterface {
  name = 'UncertainSince1795746500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE whatsapp_messages ADD COLUMN uncertain_since timestamptz');
    // A pending row that kept its start time was waiting for a look-before-resending; a
    // dispatching one may carry an earlier attempt's start (a takeover kept it): either way the
    // next attempt looks first (a look too many is harmless). Stop every worker for this
    // deploy: old and new code read the mark from different columns.
    await queryRunner.query(`
      UPDATE whatsapp_messages SET uncertain_since = dispatch_started_at
       WHERE status IN ('pending', 'dispatching') AND dispatch_started_at IS NOT NULL`);
    await queryRunner.query(`
      UPDATE whatsapp_messages SET dispatch_started_at = NULL
       WHERE status = 'pending' AND dispatch_started_at IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      UPDATE whatsapp_messages SET dispatch_started_at = uncertain_since
       WHERE status = 'pending' AND uncertain_since IS NOT NULL`);
    await queryRunner.query('ALTER TABLE whatsapp_messages DROP COLUMN uncertain_since');
  }
}
