import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  decideAttempt,
  type AttemptResult,
  type DeliveryState,
  type RetryPolicy,
} from './delivery-moves';
import { takeTokens } from './rate-tokens';

/** What the dispatcher needs of a subscription each round. */
export interface ServedSubscription {
  id: string;
  disabled: boolean;
  /** Events committed after its fan-out cursor. */
  hasEvents: boolean;
  /** Deliveries due (maybe behind their lane's head: the claim decides). */
  hasDue: boolean;
}

/** A delivery a dispatcher now holds (in flight, leased), with where and how to send it. */
export interface ClaimedDelivery {
  id: string;
  subscriptionId: string;
  /** The event row's id; null for a ping. */
  eventId: string | null;
  kind: 'event' | 'ping';
  /** This attempt's number (1 for the first). */
  attempt: number;
  url: string;
  /** The signing secrets: the current one first, then the previous one while it overlaps. */
  secrets: string[];
  createdAt: Date;
}

/** One finished attempt, as the sender saw it. */
export interface FinishedAttempt {
  delivery: ClaimedDelivery;
  result: AttemptResult;
  startedAt: Date;
  durationMs: number;
}

/** What writing a batch of attempts decided, for metrics and logs. */
export interface AttemptVerdict {
  deliveryId: string;
  subscriptionId: string;
  /** succeeded | retry | failed | gone; `stale` when the delivery was no longer ours. */
  result: 'succeeded' | 'retry' | 'failed' | 'gone' | 'stale';
  disabled: 'gone' | 'failing' | null;
}

interface LockedDelivery {
  id: string;
  subscriptionId: string;
  state: DeliveryState;
  attempts: number;
}

interface LockedSubscription {
  id: string;
  failingSince: Date | null;
  disabledAt: Date | null;
  /** Set when this batch disables it; otherwise the stored reason stays. */
  disabledReason: string | null;
  now: Date;
}

/** A delivery's lane: its message for status events, its sender's address for inbound ones. */
const LANE = `CASE WHEN e.type = 'message.inbound'
                   THEN 'contact:' || coalesce(m."from", e.message_id::text)
                   ELSE 'message:' || e.message_id END`;
const LANE_JOIN = `LEFT JOIN whatsapp_messages m ON e.type = 'message.inbound' AND m.id = e.message_id`;

/** A delivery as the attempts route lists it. */
export interface DeliveryRow {
  id: string;
  eventId: string | null;
  kind: 'event' | 'ping';
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date;
  createdAt: Date;
  finishedAt: Date | null;
  history: {
    attempt: number;
    startedAt: string;
    durationMs: number;
    statusCode: number | null;
    error: string | null;
    result: string;
  }[];
}

/** Why the dispatcher disables a subscription. */
export const DISABLED_REASONS = {
  gone: 'the receiver answered 410 Gone',
  failing: 'every delivery failed for EVENTS_DISABLE_AFTER',
} as const;

/**
 * Deliveries in PostgreSQL: fan-out from the event log, claims by lane, and the attempts'
 * outcomes (locked, decided in TypeScript by delivery-moves.ts, written in one statement).
 */
@Injectable()
export class DeliveriesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Every subscription, disabled or not (a disabled one still collects its deliveries), with
   * whether it has events to fan out and deliveries due: read without a lock, so an idle round
   * takes no row lock (each would cost a transaction id and a WAL record).
   */
  subscriptions(): Promise<ServedSubscription[]> {
    return this.dataSource.query<ServedSubscription[]>(
      `WITH head AS (
         -- The feed's last servable position: one backward step on (xid, id).
         SELECT xid, id FROM events WHERE xid < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY xid DESC, id DESC LIMIT 1
       )
       SELECT s.id, s.disabled_at IS NOT NULL AS disabled,
              coalesce((SELECT (head.xid, head.id) > (s.cursor_xid, s.cursor_id) FROM head),
                       false) AS "hasEvents",
              EXISTS (SELECT 1 FROM event_deliveries d
                       WHERE d.subscription_id = s.id AND d.state IN ('pending', 'in_flight')
                         AND d.next_attempt_at <= now()
                         AND (d.state = 'pending' OR d.lease_until <= now())
                       ORDER BY d.id LIMIT 1) AS "hasDue"
         FROM event_subscriptions s ORDER BY s.id`,
    );
  }

  /**
   * Fans up to `limit` events out to one subscription, in the feed's commit order (so a lane's
   * deliveries are numbered in its events' order), and advances its cursor, in one statement.
   * A subscription another replica is fanning out is skipped. Inbound messages share a lane per
   * contact (their sender's address), status events one per message. How many events it scanned.
   */
  async fanOut(subscriptionId: string, limit: number): Promise<number> {
    const [row] = await this.dataSource.query<{ scanned: number }[]>(
      `WITH sub AS (
         SELECT id, events, cursor_xid, cursor_id FROM event_subscriptions
          WHERE id = $1 FOR UPDATE SKIP LOCKED
       ), e AS (
         SELECT e.id, e.xid, e.type, e.message_id FROM events e, sub
          WHERE (e.xid, e.id) > (sub.cursor_xid, sub.cursor_id)
            AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY e.xid, e.id
          LIMIT $2
       ), inserted AS (
         INSERT INTO event_deliveries (subscription_id, event_id, lane)
         SELECT sub.id, e.id, ${LANE}
           FROM e JOIN sub ON e.type = ANY (sub.events) ${LANE_JOIN}
          ORDER BY e.xid, e.id
         RETURNING 1
       ), advanced AS (
         UPDATE event_subscriptions s SET cursor_xid = last.xid, cursor_id = last.id
           FROM (SELECT xid, id FROM e ORDER BY xid DESC, id DESC LIMIT 1) last
          WHERE s.id = $1
         RETURNING 1
       )
       SELECT (SELECT count(*)::int FROM e) AS scanned,
              (SELECT count(*)::int FROM inserted) AS inserted,
              (SELECT count(*)::int FROM advanced) AS advanced`,
      [subscriptionId, limit],
    );
    return row?.scanned ?? 0;
  }

  /**
   * Claims up to `max` due deliveries of an enabled subscription, each the first open one of its
   * lane: pending and due, or in flight with its lease run out (its dispatcher died). Keeps the
   * subscription's deliveries in flight at most `maxInFlight` across replicas and within its
   * rate limit. Claimers of one subscription take turns on its row; another's turn is skipped.
   */
  claim(subscriptionId: string, maxInFlight: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.dataSource.transaction(async (manager) => {
      const [sub] = await manager.query<
        {
          url: string;
          secrets: string[];
          rateLimit: number | null;
          rateTokens: number | null;
          rateAt: Date | null;
          now: Date;
        }[]
      >(
        `SELECT url,
                CASE WHEN previous_secret IS NOT NULL AND previous_secret_until > now()
                     THEN ARRAY[secret, previous_secret] ELSE ARRAY[secret] END AS secrets,
                rate_limit AS "rateLimit", rate_tokens AS "rateTokens", rate_at AS "rateAt",
                now() AS now
           FROM event_subscriptions WHERE id = $1 AND disabled_at IS NULL
            FOR UPDATE SKIP LOCKED`,
        [subscriptionId],
      );
      if (!sub) return [];
      const [{ inFlight }] = await manager.query<{ inFlight: number }[]>(
        `SELECT count(*)::int AS "inFlight" FROM event_deliveries
          WHERE subscription_id = $1 AND state = 'in_flight' AND lease_until > now()`,
        [subscriptionId],
      );
      let room = Math.max(0, maxInFlight - inFlight);
      const bucket =
        sub.rateLimit === null
          ? null
          : takeTokens(
              { rate: sub.rateLimit, tokens: sub.rateTokens, at: sub.rateAt },
              room,
              sub.now,
            );
      if (bucket) room = bucket.taken;
      if (room === 0) return [];
      const [rows] = await manager.query<
        [
          {
            id: string;
            eventId: string | null;
            kind: 'event' | 'ping';
            attempt: number;
            createdAt: Date;
          }[],
          number,
        ]
      >(
        `WITH due AS (
           SELECT d.id FROM event_deliveries d
            WHERE d.subscription_id = $1 AND d.state IN ('pending', 'in_flight')
              AND d.next_attempt_at <= now()
              AND (d.state = 'pending' OR d.lease_until <= now())
              -- The first open delivery of its lane. A correlated subquery, so it is always an
              -- index probe per candidate: NOT EXISTS let a planner with stale statistics (a
              -- table that just grew) scan every open row per candidate (10 s at 76,000).
              AND d.id = (SELECT p.id FROM event_deliveries p
                           WHERE p.subscription_id = d.subscription_id AND p.lane = d.lane
                             AND p.state IN ('pending', 'in_flight')
                           ORDER BY p.id LIMIT 1)
            ORDER BY d.id
            LIMIT $2
            FOR UPDATE SKIP LOCKED
         )
         UPDATE event_deliveries d
            SET state = 'in_flight', attempts = d.attempts + 1,
                lease_until = now() + $3 * interval '1 millisecond'
           FROM due WHERE d.id = due.id
         RETURNING d.id::text, d.event_id::text AS "eventId", d.kind, d.attempts AS attempt,
                   d.created_at AS "createdAt"`,
        [subscriptionId, room, leaseMs],
      );
      if (bucket) {
        // Tokens not used by this claim go back to the bucket.
        await manager.query(
          'UPDATE event_subscriptions SET rate_tokens = $2, rate_at = $3 WHERE id = $1',
          [subscriptionId, bucket.tokens + (bucket.taken - rows.length), sub.now],
        );
      }
      return rows
        .sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)))
        .map((row) => ({
          ...row,
          subscriptionId,
          url: sub.url,
          secrets: sub.secrets,
        }));
    });
  }

  /**
   * Writes finished attempts: locks their subscriptions then deliveries (the claim's order, so
   * the two never deadlock), decides each with decideAttempt in finishing order, and stores the
   * deliveries, the attempt log and the subscriptions' failure state in one statement. An attempt
   * whose delivery is no longer in flight under that attempt number (its lease ran out and
   * another dispatcher took it) is logged and changes nothing.
   */
  record(attempts: readonly FinishedAttempt[], policy: RetryPolicy): Promise<AttemptVerdict[]> {
    return this.dataSource.transaction(async (manager) => {
      const subscriptionIds = [...new Set(attempts.map((a) => a.delivery.subscriptionId))].sort();
      const subs = await manager.query<LockedSubscription[]>(
        `SELECT id, failing_since AS "failingSince", disabled_at AS "disabledAt",
                NULL AS "disabledReason", now() AS now
           FROM event_subscriptions WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
        [subscriptionIds],
      );
      const locked = await manager.query<LockedDelivery[]>(
        `SELECT id::text, subscription_id AS "subscriptionId", state, attempts
           FROM event_deliveries WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`,
        [attempts.map((a) => a.delivery.id)],
      );
      const deliveries = new Map(locked.map((row) => [row.id, row]));
      const subscriptions = new Map(subs.map((row) => [row.id, { ...row }]));
      const verdicts: AttemptVerdict[] = [];
      const writes: {
        id: string;
        state: DeliveryState;
        next: Date | null;
        status: number | null;
        error: string | null;
        finished: Date | null;
      }[] = [];
      const log: {
        deliveryId: string;
        attempt: number;
        startedAt: Date;
        durationMs: number;
        status: number | null;
        error: string | null;
        result: string;
      }[] = [];
      for (const finished of attempts) {
        const { delivery, result } = finished;
        const row = deliveries.get(delivery.id);
        const sub = subscriptions.get(delivery.subscriptionId);
        const status = result.kind === 'response' ? result.status : null;
        const error = result.kind === 'response' ? null : result.reason;
        const current = row && row.state === 'in_flight' && row.attempts === delivery.attempt;
        const logged = (verdict: string) => ({
          deliveryId: delivery.id,
          attempt: delivery.attempt,
          startedAt: finished.startedAt,
          durationMs: finished.durationMs,
          status,
          error,
          result: verdict,
        });
        if (!row || !sub || !current) {
          // A deleted delivery (its subscription deleted, or retention) has no log to add to.
          if (row) log.push(logged('stale'));
          verdicts.push({
            deliveryId: delivery.id,
            subscriptionId: delivery.subscriptionId,
            result: 'stale',
            disabled: null,
          });
          continue;
        }
        const decision = decideAttempt(
          { number: delivery.attempt, result, now: sub.now },
          { failingSince: sub.failingSince },
          policy,
        );
        row.state = decision.state;
        sub.failingSince = decision.failingSince;
        const disabled = decision.disable && sub.disabledAt === null ? decision.disable : null;
        if (disabled) {
          sub.disabledAt = sub.now;
          sub.disabledReason = DISABLED_REASONS[disabled];
        }
        writes.push({
          id: delivery.id,
          state: decision.state,
          next: decision.nextAttemptAt,
          status,
          error,
          finished: decision.state === 'succeeded' || decision.state === 'failed' ? sub.now : null,
        });
        log.push(logged(decision.result));
        verdicts.push({
          deliveryId: delivery.id,
          subscriptionId: delivery.subscriptionId,
          result: decision.result,
          disabled,
        });
      }
      const subWrites = [...subscriptions.values()];
      await manager.query(
        `WITH logged AS (
           INSERT INTO event_delivery_attempts
             (delivery_id, attempt, started_at, duration_ms, status_code, error, result)
           SELECT * FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::int[], $5::int[],
                                $6::text[], $7::text[])
         ), subs AS (
           UPDATE event_subscriptions s
              SET failing_since = v.failing_since, disabled_at = v.disabled_at,
                  disabled_reason = coalesce(v.reason, s.disabled_reason)
             FROM unnest($14::uuid[], $15::timestamptz[], $16::timestamptz[], $17::text[])
                  AS v(id, failing_since, disabled_at, reason)
            WHERE s.id = v.id
         )
         UPDATE event_deliveries d
            SET state = v.state, next_attempt_at = coalesce(v.next, d.next_attempt_at),
                lease_until = NULL, last_status = v.status, last_error = v.error,
                finished_at = v.finished
           FROM unnest($8::bigint[], $9::text[], $10::timestamptz[], $11::int[], $12::text[],
                       $13::timestamptz[]) AS v(id, state, next, status, error, finished)
          WHERE d.id = v.id`,
        [
          log.map((l) => l.deliveryId),
          log.map((l) => l.attempt),
          log.map((l) => l.startedAt),
          log.map((l) => l.durationMs),
          log.map((l) => l.status),
          log.map((l) => l.error),
          log.map((l) => l.result),
          writes.map((w) => w.id),
          writes.map((w) => w.state),
          writes.map((w) => w.next),
          writes.map((w) => w.status),
          writes.map((w) => w.error),
          writes.map((w) => w.finished),
          subWrites.map((s) => s.id),
          subWrites.map((s) => s.failingSince),
          subWrites.map((s) => s.disabledAt),
          subWrites.map((s) => s.disabledReason),
        ],
      );
      return verdicts;
    });
  }

  /**
   * Runs `insert` holding the subscription's row lock, as fan-out and claims do: deliveries are
   * numbered and committed in their lanes' order, never beside a fan-out or a claim of the same
   * subscription. Null when the subscription does not exist.
   */
  private queue<T>(
    subscriptionId: string,
    insert: (manager: EntityManager) => Promise<T>,
  ): Promise<T | null> {
    return this.dataSource.transaction(async (manager) => {
      const locked = await manager.query<unknown[]>(
        'SELECT 1 FROM event_subscriptions WHERE id = $1 FOR UPDATE',
        [subscriptionId],
      );
      return locked.length === 0 ? null : insert(manager);
    });
  }

  /** Queues a `ping` (its own lane: it waits for nothing); its delivery id, null if no such subscription. */
  queuePing(subscriptionId: string): Promise<string | null> {
    return this.queue(subscriptionId, async (manager) => {
      const [row] = await manager.query<{ id: string }[]>(
        `INSERT INTO event_deliveries (subscription_id, kind, lane)
         VALUES ($1, 'ping', 'ping:' || gen_random_uuid()) RETURNING id::text`,
        [subscriptionId],
      );
      return row.id;
    });
  }

  /**
   * Queues again, under the same `webhook-id`s, the subscription's events created since `since`
   * up to its fan-out cursor, behind its lanes' open deliveries; how many (null if no such
   * subscription). The events' BRIN index on time finds the window.
   */
  replay(subscriptionId: string, since: Date): Promise<number | null> {
    return this.queue(subscriptionId, async (manager) => {
      const [{ queued }] = await manager.query<{ queued: number }[]>(
        `WITH sub AS (SELECT id, events, cursor_xid, cursor_id FROM event_subscriptions WHERE id = $1),
              inserted AS (
                INSERT INTO event_deliveries (subscription_id, event_id, lane)
                SELECT sub.id, e.id, ${LANE}
                  FROM events e
                  JOIN sub ON e.type = ANY (sub.events)
                          AND (e.xid, e.id) <= (sub.cursor_xid, sub.cursor_id)
                  ${LANE_JOIN}
                 WHERE e.created_at >= $2
                 ORDER BY e.xid, e.id
                RETURNING 1)
         SELECT count(*)::int AS queued FROM inserted`,
        [subscriptionId, since],
      );
      return queued;
    });
  }

  /**
   * Queues one event again for one subscription, behind its lane, if it was fanned out to it
   * already (one not yet fanned out is on its way: queuing it now would put it ahead of its
   * lane). Whether it was queued; null if no such subscription.
   */
  resend(subscriptionId: string, eventRowId: string): Promise<boolean | null> {
    return this.queue(subscriptionId, async (manager) => {
      const rows = await manager.query<unknown[]>(
        `INSERT INTO event_deliveries (subscription_id, event_id, lane)
         SELECT s.id, e.id, ${LANE}
           FROM events e
           JOIN event_subscriptions s ON s.id = $1
                                     AND (e.xid, e.id) <= (s.cursor_xid, s.cursor_id)
           ${LANE_JOIN}
          WHERE e.id = $2
         RETURNING 1`,
        [subscriptionId, eventRowId],
      );
      return rows.length > 0;
    });
  }

  /** A subscription's deliveries, newest first, with their attempts (oldest first). */
  page(
    subscriptionId: string,
    status: 'succeeded' | 'failed' | 'pending' | undefined,
    limit: number,
    before: string | undefined,
  ): Promise<DeliveryRow[]> {
    const states = {
      succeeded: ['succeeded'],
      failed: ['failed'],
      pending: ['pending', 'in_flight'],
    };
    return this.dataSource.query<DeliveryRow[]>(
      `SELECT d.id::text, d.event_id::text AS "eventId", d.kind, d.state, d.attempts,
              d.next_attempt_at AS "nextAttemptAt", d.created_at AS "createdAt",
              d.finished_at AS "finishedAt",
              coalesce((SELECT json_agg(json_build_object(
                         'attempt', a.attempt, 'startedAt', a.started_at,
                         'durationMs', a.duration_ms, 'statusCode', a.status_code,
                         'error', a.error, 'result', a.result) ORDER BY a.id)
                          FROM event_delivery_attempts a WHERE a.delivery_id = d.id), '[]') AS history
         FROM event_deliveries d
        WHERE d.subscription_id = $1
          AND ($2::text[] IS NULL OR d.state = ANY ($2::text[]))
          AND ($3::bigint IS NULL OR d.id < $3::bigint)
        ORDER BY d.id DESC
        LIMIT $4`,
      [subscriptionId, status ? states[status] : null, before ?? null, limit],
    );
  }

  /**
   * Seconds the oldest open delivery of an enabled subscription has waited (0 when none): the
   * oldest undelivered event's age.
   */
  async oldestPendingSeconds(): Promise<number> {
    const [{ age }] = await this.dataSource.query<{ age: number }[]>(
      `SELECT coalesce(max(date_part('epoch', now() - o.created_at)), 0) AS age
         FROM event_subscriptions s
         CROSS JOIN LATERAL (
           SELECT created_at FROM event_deliveries d
            WHERE d.subscription_id = s.id AND d.state IN ('pending', 'in_flight')
            ORDER BY d.id LIMIT 1) o
        WHERE s.disabled_at IS NULL`,
    );
    return age;
  }

  /** Deletes up to `limit` deliveries (with their attempts) older than `days`; how many. */
  async deleteOlderThan(days: number, limit: number): Promise<number> {
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      `DELETE FROM event_deliveries
        WHERE id IN (SELECT id FROM event_deliveries
                      WHERE created_at < now() - $1 * interval '1 day' ORDER BY id LIMIT $2)`,
      [days, limit],
    );
    return affected;
  }
}
