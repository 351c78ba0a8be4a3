import type { MigrationInterface, QueryRunner } from 'typeorm';

// The data model (docs/architecture.md §5): messages, their status log, contacts (the 24-hour window) and idempotency keys.
// Additions for the outbound pipeline: accepted_at (latency metrics), dispatch_started_at (an
// attempt may have reached Twilio: look before resending), next_attempt_at (the sweeper) and
// last_error_retryable and max_attempts (the admin retry endpoint grants a fresh set of attempts
// while job ids, <id>-<attempt>, keep growing).
export class CreateMessagingTables1795743000000 implements MigrationInterface {
  name = 'CreateMessagingTables1795743000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE whatsapp_messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        direction text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
        twilio_sid text UNIQUE,
        "from" text,
        "to" text NOT NULL,
        body text,
        content_sid text,
        content_variables jsonb,
        media_urls jsonb NOT NULL DEFAULT '[]'::jsonb,
        reference text,
        metadata jsonb,
        status text NOT NULL,
        error_code integer,
        error_message text,
        attempts integer NOT NULL DEFAULT 0,
        max_attempts integer NOT NULL,
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        idempotency_key text,
        accepted_at timestamptz,
        sent_at timestamptz,
        delivered_at timestamptz,
        read_at timestamptz,
        failed_at timestamptz,
        dispatch_started_at timestamptz,
        next_attempt_at timestamptz,
        last_error_retryable boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'CREATE INDEX whatsapp_messages_status_created_idx ON whatsapp_messages (status, created_at)',
    );
    await queryRunner.query(
      'CREATE INDEX whatsapp_messages_to_created_idx ON whatsapp_messages ("to", created_at)',
    );
    await queryRunner.query(
      'CREATE INDEX whatsapp_messages_reference_idx ON whatsapp_messages (reference)',
    );
    await queryRunner.query(
      'CREATE INDEX whatsapp_messages_created_idx ON whatsapp_messages (created_at)',
    );
    // The sweeper's look-up: only rows that still need a worker.
    await queryRunner.query(`
      CREATE INDEX whatsapp_messages_outbox_idx ON whatsapp_messages (next_attempt_at)
      WHERE status IN ('pending', 'dispatching')`);

    await queryRunner.query(`
      CREATE TABLE message_status_logs (
        id bigserial PRIMARY KEY,
        message_id uuid REFERENCES whatsapp_messages (id) ON DELETE CASCADE,
        twilio_sid text,
        status text NOT NULL,
        error_code integer,
        error_message text,
        source text NOT NULL CHECK (source IN ('api', 'worker', 'callback', 'reconciler')),
        applied boolean NOT NULL,
        payload jsonb,
        idempotency_token text,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One row per distinct event, whatever its source (a null error code counts as one value).
    // The SID is part of the event: after an admin retry the message is sent again under a new
    // SID, and that send's own sent/delivered/read must count; within one SID a repeat adds nothing.
    await queryRunner.query(`
      CREATE UNIQUE INDEX message_status_logs_event_key
      ON message_status_logs (message_id, status, COALESCE(error_code, 0), COALESCE(twilio_sid, ''))
      WHERE message_id IS NOT NULL`);
    await queryRunner.query(`
      CREATE UNIQUE INDEX message_status_logs_orphan_key
      ON message_status_logs (twilio_sid, status, COALESCE(error_code, 0))
      WHERE message_id IS NULL`);
    await queryRunner.query(`
      CREATE UNIQUE INDEX message_status_logs_token_key
      ON message_status_logs (idempotency_token) WHERE idempotency_token IS NOT NULL`);
    await queryRunner.query(
      'CREATE INDEX message_status_logs_message_idx ON message_status_logs (message_id, received_at)',
    );

    await queryRunner.query(`
      CREATE TABLE contacts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        phone text NOT NULL UNIQUE,
        wa_id text,
        profile_name text,
        last_inbound_at timestamptz,
        opted_out_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await queryRunner.query(`
      CREATE TABLE idempotency_keys (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        key text NOT NULL,
        request_hash text NOT NULL,
        response_status integer,
        response_body jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, key)
      )`);
    await queryRunner.query(
      'CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE idempotency_keys');
    await queryRunner.query('DROP TABLE contacts');
    await queryRunner.query('DROP TABLE message_status_logs');
    await queryRunner.query('DROP TABLE whatsapp_messages');
  }
}
