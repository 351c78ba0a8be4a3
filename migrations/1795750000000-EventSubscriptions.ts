import type { MigrationInterface, QueryRunner } from 'typeorm';

// Subscriptions and their deliveries, all in PostgreSQL: a Redis restart with an empty data set
// loses no event and no retry.
//
// - event_subscriptions: the receiver (url, event types, secret; the previous secret keeps
//   signing until previous_secret_until after a rotation), whether it is disabled and why, since
//   when it has failed without a success, and how far the event log has been fanned out to it
//   (cursor_xid, cursor_id: the feed's commit order); with a rate limit, its token bucket
//   (rate_tokens at rate_at).
// - event_deliveries: one per event (or ping, or replay) per subscription. `lane` orders them:
//   a delivery waits while an earlier one of its lane (the message; an inbound message's
//   contact) is pending or in flight. state pending → in_flight (lease_until) → succeeded or
//   failed (for good); attempts and next_attempt_at drive the retries.
// - event_delivery_attempts: every HTTP attempt, its answer and verdict.
export class EventSubscriptions1795750000000 implements MigrationInterface {
  name = 'EventSubscriptions1795750000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE event_subscriptions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        url text NOT NULL,
        events text[] NOT NULL,
        description text,
        secret text NOT NULL,
        previous_secret text,
        previous_secret_until timestamptz,
        rate_limit integer,
        rate_tokens double precision,
        rate_at timestamptz,
        disabled_at timestamptz,
        disabled_reason text,
        failing_since timestamptz,
        cursor_xid xid8 NOT NULL,
        cursor_id bigint NOT NULL,
        created_by uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE event_deliveries (
        id bigserial PRIMARY KEY,
        subscription_id uuid NOT NULL REFERENCES event_subscriptions (id) ON DELETE CASCADE,
        event_id bigint,
        kind text NOT NULL DEFAULT 'event',
        lane text NOT NULL,
        state text NOT NULL DEFAULT 'pending',
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        lease_until timestamptz,
        last_status integer,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    // Due deliveries of a subscription, oldest first; and a lane's earlier open ones.
    await queryRunner.query(`
      CREATE INDEX event_deliveries_open_idx ON event_deliveries (subscription_id, id)
        WHERE state IN ('pending', 'in_flight')`);
    await queryRunner.query(`
      CREATE INDEX event_deliveries_lane_idx ON event_deliveries (subscription_id, lane, id)
        WHERE state IN ('pending', 'in_flight')`);
    await queryRunner.query(
      'CREATE INDEX event_deliveries_subscription_idx ON event_deliveries (subscription_id, id)',
    );
    await queryRunner.query(`
      CREATE TABLE event_delivery_attempts (
        id bigserial PRIMARY KEY,
        delivery_id bigint NOT NULL REFERENCES event_deliveries (id) ON DELETE CASCADE,
        attempt integer NOT NULL,
        started_at timestamptz NOT NULL,
        duration_ms integer NOT NULL,
        status_code integer,
        error text,
        result text NOT NULL
      )`);
    await queryRunner.query(
      'CREATE INDEX event_delivery_attempts_delivery_idx ON event_delivery_attempts (delivery_id)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE event_delivery_attempts');
    await queryRunner.query('DROP TABLE event_deliveries');
    await queryRunner.query('DROP TABLE event_subscriptions');
  }
}
