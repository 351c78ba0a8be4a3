import type { MigrationInterface, QueryRunner } from 'typeorm';

// The feed's position (xid) of a message's last event. A message's next event is filed under
// the higher of its own transaction's id and this one, so one message's events sort in sequence
// order in the feed even when the later event's transaction got its id first (ids are handed
// out at a transaction's first row lock; it may then wait for this message's lock). Nullable: a
// message without events has none.
export class MessageEventXid1795750500000 implements MigrationInterface {
  name = 'MessageEventXid1795750500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE whatsapp_messages ADD COLUMN event_xid xid8');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE whatsapp_messages DROP COLUMN event_xid');
  }
}
