import type { MigrationInterface, QueryRunner } from 'typeorm';

// The event log: one row per applied status change (`message.status`) and per new inbound
// message (`message.inbound`), written by delivery's one writer in the same statement as the
// change. Rows stay thin: the SID, reference, metadata and an inbound message's content are read
// from the message when an event is served, so erasing a contact erases what its events show.
// `sequence` counts a message's events from 1 (the message keeps the last in `event_sequence`,
// read under the writer's row lock); `xid` is the writing transaction, for a feed in commit order
// (its index comes with the feed). No foreign key to the message: the writer inserts an event
// only for a row it holds locked, messages are never deleted but by tests and benchmarks, and a
// key check per event cost the status callbacks measurably.
export class EventLog1795748000000 implements MigrationInterface {
  name = 'EventLog1795748000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      'ALTER TABLE whatsapp_messages ADD COLUMN event_sequence integer NOT NULL DEFAULT 0',
    );
    await queryRunner.query(`
      CREATE TABLE events (
        id bigserial PRIMARY KEY,
        xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        type text NOT NULL,
        message_id uuid NOT NULL,
        sequence integer NOT NULL,
        previous_status text,
        status text NOT NULL,
        error_code integer,
        error_message text,
        occurred_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_message_sequence_key UNIQUE (message_id, sequence)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE events');
    await queryRunner.query('ALTER TABLE whatsapp_messages DROP COLUMN event_sequence');
  }
}
