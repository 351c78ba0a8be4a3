import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { ReadQueryException } from '../../../common/errors/read-query.exception';
import { READ_DATA_SOURCE } from '../../../database/database.constants';
import type { EventLogPage, EventLogPosition, EventType, LoggedEvent } from '../delivery.types';
import { WhatsappMessageEntity } from '../entities/whatsapp-message.entity';
import { toMessageResponse } from './dto/message.response';

/** An event row as read: a LoggedEvent without its message, the position's xid beside it. */
type EventRow = Omit<LoggedEvent, 'position' | 'message'> & { xid: string };

// Only events whose transaction ended before the oldest one still running: every transaction
// that can still commit an event has an xid at or above that bound (xids are handed out in
// order, and the bound only rises), so a position served is never passed by a later commit.
const OLDEST_RUNNING = 'pg_snapshot_xmin(pg_current_snapshot())';

// Qualified: an ORDER BY on a bare `id` or `xid` would sort these text outputs, not the columns.
const EVENT_COLUMNS = `e.id::text AS id, e.xid::text AS xid, e.type, e.message_id AS "messageId",
  e.sequence, e.previous_status AS "previousStatus", e.status, e.error_code AS "errorCode",
  e.error_message AS "errorMessage", e.occurred_at AS "occurredAt", e.created_at AS "createdAt"`;

/** The rows as LoggedEvents, each with its message as it is now (one query for them all). */
async function withMessages(dataSource: DataSource, rows: EventRow[]): Promise<LoggedEvent[]> {
  const ids = [...new Set(rows.map((row) => row.messageId))];
  const messages =
    ids.length === 0
      ? []
      : await dataSource.getRepository(WhatsappMessageEntity).findBy({ id: In(ids) });
  const byId = new Map(messages.map((message) => [message.id, toMessageResponse(message)]));
  return rows.map((row): LoggedEvent => ({
    id: row.id,
    position: { xid: row.xid, id: row.id },
    type: row.type,
    messageId: row.messageId,
    sequence: row.sequence,
    previousStatus: row.previousStatus,
    status: row.status,
    errorCode: row.errorCode,
    errorMessage: row.errorMessage,
    occurredAt: row.occurredAt,
    createdAt: row.createdAt,
    message: byId.get(row.messageId) ?? null,
  }));
}

/**
 * The event log as the events module reads it: pages in commit order, `(xid, id)`, and how far
 * the feed lags. Rows are thin; what an event shows of its message is read from the message now,
 * so an erased contact's events show the erased message.
 */
@Injectable()
export class EventLogReader {
  constructor(
    @InjectDataSource(READ_DATA_SOURCE) private readonly reads: DataSource,
    private readonly dataSource: DataSource,
  ) {}

  /**
   * Up to `limit` events after `after` (from the oldest kept when null), of `type` when given,
   * on the API read pool (its bounds answer 503, not 500). `last` is the last row scanned, the
   * next page's start, even when its message no longer exists.
   */
  page(after: EventLogPosition | null, limit: number, type?: EventType): Promise<EventLogPage> {
    return ReadQueryException.wrap(async () => {
      const where = [`e.xid < ${OLDEST_RUNNING}`];
      const parameters: unknown[] = [limit];
      if (after) {
        parameters.push(after.xid, after.id);
        where.push(
          `(e.xid, e.id) > ($${parameters.length - 1}::xid8, $${parameters.length}::bigint)`,
        );
      }
      if (type) {
        parameters.push(type);
        where.push(`e.type = $${parameters.length}`);
      }
      const rows = await this.reads.query<EventRow[]>(
        `SELECT ${EVENT_COLUMNS} FROM events e
          WHERE ${where.join(' AND ')}
          ORDER BY e.xid, e.id
          LIMIT $1`,
        parameters,
      );
      const last = rows.at(-1);
      return {
        events: await withMessages(this.reads, rows),
        last: last ? { xid: last.xid, id: last.id } : null,
      };
    });
  }

  /**
   * Events by row id, with their messages, on the main pool (the events dispatcher's read, in a
   * worker); an id no longer kept (retention) is absent.
   */
  async byIds(ids: readonly string[]): Promise<LoggedEvent[]> {
    if (ids.length === 0) return [];
    const rows = await this.dataSource.query<EventRow[]>(
      `SELECT ${EVENT_COLUMNS} FROM events e WHERE e.id = ANY($1::bigint[])`,
      [ids],
    );
    return withMessages(this.dataSource, rows);
  }

  /**
   * Seconds the oldest committed event has waited for the feed to serve it (since its
   * transaction began); 0 when none waits. A transaction open anywhere in the cluster holds the
   * feed back: this is how long.
   */
  async lagSeconds(): Promise<number> {
    const [{ lag }] = await this.dataSource.query<{ lag: number }[]>(
      `SELECT coalesce(date_part('epoch', clock_timestamp() - min(created_at)), 0) AS lag
         FROM events WHERE xid >= ${OLDEST_RUNNING}`,
    );
    return Math.max(0, lag);
  }
}
