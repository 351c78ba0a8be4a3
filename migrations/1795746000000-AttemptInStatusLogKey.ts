import type { MigrationInterface, QueryRunner } from 'typeorm';

// The worker's and the API's own moves (claim, retry later, accepted, failed, admin retry) are
// logged with the attempt they belong to, so every attempt shows once in a message's history:
// keyed on (message, status, error code, SID) alone, a second attempt's `dispatching` or an
// admin retry's `pending` would be dropped as a repeat. Twilio's callbacks and the reconciler
// keep the old key (attempt NULL), so a repeated callback still adds nothing.
export class AttemptInStatusLogKey1795746000000 implements MigrationInterface {
  name = 'AttemptInStatusLogKey1795746000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE message_status_logs ADD COLUMN attempt integer');
    await queryRunner.query('DROP INDEX message_status_logs_event_key');
    await queryRunner.query(`
      CREATE UNIQUE INDEX message_status_logs_event_key
      ON message_status_logs (message_id, status, COALESCE(error_code, 0), COALESCE(twilio_sid, ''))
      WHERE message_id IS NOT NULL AND attempt IS NULL`);
    await queryRunner.query(`
      CREATE UNIQUE INDEX message_status_logs_attempt_key
      ON message_status_logs (message_id, attempt, status, COALESCE(error_code, 0))
      WHERE message_id IS NOT NULL AND attempt IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX message_status_logs_attempt_key');
    await queryRunner.query('DROP INDEX message_status_logs_event_key');
    // Rows the old key would see as one collapse again: an attempt's row goes when a callback's
    // row (no attempt) or an earlier attempt's row has the same key.
    await queryRunner.query(`
      DELETE FROM message_status_logs l USING message_status_logs k
       WHERE l.attempt IS NOT NULL AND l.id <> k.id AND l.message_id = k.message_id
         AND l.status = k.status AND COALESCE(l.error_code, 0) = COALESCE(k.error_code, 0)
         AND COALESCE(l.twilio_sid, '') = COALESCE(k.twilio_sid, '')
         AND (k.attempt IS NULL OR k.id < l.id)`);
    await queryRunner.query('ALTER TABLE message_status_logs DROP COLUMN attempt');
    await queryRunner.query(`
      CREATE UNIQUE INDEX message_status_logs_event_key
      ON message_status_logs (message_id, status, COALESCE(error_code, 0), COALESCE(twilio_sid, ''))
      WHERE message_id IS NOT NULL`);
  }
}
