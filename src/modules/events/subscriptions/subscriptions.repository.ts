import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EventType } from '../../delivery/delivery.types';

/** A subscription as stored (secrets included: only the dispatcher and create/rotate see them). */
export interface SubscriptionRow {
  id: string;
  url: string;
  events: EventType[];
  description: string | null;
  secret: string;
  previousSecret: string | null;
  previousSecretUntil: Date | null;
  rateLimit: number | null;
  disabledAt: Date | null;
  disabledReason: string | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewSubscription {
  url: string;
  events: EventType[];
  description: string | null;
  rateLimit: number | null;
  secret: string;
  createdBy: string | null;
}

export interface SubscriptionPatch {
  url?: string;
  events?: EventType[];
  description?: string | null;
  rateLimit?: number | null;
  /** true: disabled now by an admin; false: enabled again (its waiting deliveries resume). */
  disabled?: boolean;
}

const COLUMNS = `id, url, events, description, secret, previous_secret AS "previousSecret",
  previous_secret_until AS "previousSecretUntil", rate_limit AS "rateLimit",
  disabled_at AS "disabledAt", disabled_reason AS "disabledReason",
  failing_since AS "failingSince", created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Why an admin's PATCH disabled a subscription. */
export const DISABLED_BY_ADMIN = 'disabled by an admin';

@Injectable()
export class SubscriptionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * A new subscription receives the events committed from now on: its fan-out cursor starts just
   * below the oldest transaction still running, so an event being written right now is not
   * missed (the feed's own bound, see EventLogReader).
   */
  async create(subscription: NewSubscription): Promise<SubscriptionRow> {
    const [row] = await this.dataSource.query<SubscriptionRow[]>(
      `INSERT INTO event_subscriptions
         (url, events, description, rate_limit, secret, created_by, cursor_xid, cursor_id)
       VALUES ($1, $2, $3, $4, $5, $6,
               ((pg_snapshot_xmin(pg_current_snapshot())::text::numeric - 1)::text)::xid8,
               9223372036854775807)
       RETURNING ${COLUMNS}`,
      [
        subscription.url,
        subscription.events,
        subscription.description,
        subscription.rateLimit,
        subscription.secret,
        subscription.createdBy,
      ],
    );
    return row;
  }

  list(): Promise<SubscriptionRow[]> {
    return this.dataSource.query<SubscriptionRow[]>(
      `SELECT ${COLUMNS} FROM event_subscriptions ORDER BY created_at, id`,
    );
  }

  async find(id: string): Promise<SubscriptionRow | null> {
    const [row] = await this.dataSource.query<SubscriptionRow[]>(
      `SELECT ${COLUMNS} FROM event_subscriptions WHERE id = $1`,
      [id],
    );
    return row ?? null;
  }

  /** Applies a PATCH; null when there is no such subscription. */
  async update(id: string, patch: SubscriptionPatch): Promise<SubscriptionRow | null> {
    const sets: string[] = ['updated_at = now()'];
    const parameters: unknown[] = [id];
    const set = (column: string, value: unknown): void => {
      parameters.push(value);
      sets.push(`${column} = $${parameters.length}`);
    };
    if (patch.url !== undefined) {
      set('url', patch.url);
      // A new receiver starts a new failure clock.
      sets.push('failing_since = NULL');
    }
    if (patch.events !== undefined) set('events', patch.events);
    if (patch.description !== undefined) set('description', patch.description);
    if (patch.rateLimit !== undefined) set('rate_limit', patch.rateLimit);
    if (patch.disabled === true) {
      // Already disabled (a 410, say): keep when and why.
      parameters.push(DISABLED_BY_ADMIN);
      sets.push(
        'disabled_at = coalesce(disabled_at, now())',
        `disabled_reason = CASE WHEN disabled_at IS NULL THEN $${parameters.length} ELSE disabled_reason END`,
      );
    }
    if (patch.disabled === false) {
      // Enabled again: a fresh start for the 24-hour failure rule, and the waiting deliveries
      // are due at once, in their lanes' order.
      sets.push('disabled_at = NULL', 'disabled_reason = NULL', 'failing_since = NULL');
    }
    // One transaction: re-enabling and making its waiting deliveries due go together.
    const rows = await this.dataSource.transaction(async (manager) => {
      const [updated] = await manager.query<[SubscriptionRow[], number]>(
        `UPDATE event_subscriptions SET ${sets.join(', ')} WHERE id = $1 RETURNING ${COLUMNS}`,
        parameters,
      );
      if (patch.disabled === false && updated[0]) {
        await manager.query(
          `UPDATE event_deliveries SET next_attempt_at = now()
            WHERE subscription_id = $1 AND state = 'pending' AND next_attempt_at > now()`,
          [id],
        );
      }
      return updated;
    });
    return rows[0] ?? null;
  }

  /** Deletes it with its deliveries and attempts; whether it existed. */
  async delete(id: string): Promise<boolean> {
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      'DELETE FROM event_subscriptions WHERE id = $1',
      [id],
    );
    return affected > 0;
  }

  /** A new secret; the current one keeps signing for `overlapMs`. Null when unknown. */
  async rotateSecret(
    id: string,
    secret: string,
    overlapMs: number,
  ): Promise<SubscriptionRow | null> {
    const [rows] = await this.dataSource.query<[SubscriptionRow[], number]>(
      `UPDATE event_subscriptions
          SET previous_secret = secret, secret = $2,
              previous_secret_until = now() + $3 * interval '1 millisecond', updated_at = now()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, secret, overlapMs],
    );
    return rows[0] ?? null;
  }
}
