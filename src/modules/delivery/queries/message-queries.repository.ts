import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ReadQueryException } from '../../../common/errors/read-query.exception';
import { READ_DATA_SOURCE } from '../../../database/database.constants';
import { WhatsappMessageEntity } from '../entities/whatsapp-message.entity';
import { OUTBOUND_STATUSES } from '../status/status-machine';

export interface MessageFilter {
  status?: string;
  direction?: 'outbound' | 'inbound';
  to?: string;
  reference?: string;
  since?: Date;
  until?: Date;
  /** Keyset: strictly older than this (created_at, id). */
  before?: { createdAt: Date; id: string };
  limit: number;
}

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface MetricsRow {
  total: number;
  byStatus: Record<string, number>;
  sentOrLater: number;
  deliveredOrRead: number;
  read: number;
  failedOrUndelivered: number;
  topErrors: { errorCode: number; errorMessage: string | null; count: number }[];
  latency: {
    acceptedToSent: Percentiles;
    sentToDelivered: Percentiles;
    deliveredToRead: Percentiles;
  };
}

/**
 * Read models: the message list and the delivery metrics, computed in SQL on the API read pool
 * (READ_DATA_SOURCE: its own connections, a short statement timeout, a bounded wait). What it
 * throws is a ReadQueryException, so a read cut by those bounds answers 503, not 500.
 */
@Injectable()
export class MessageQueriesRepository {
  constructor(@InjectDataSource(READ_DATA_SOURCE) private readonly dataSource: DataSource) {}

  /** Newest first; the keyset cursor stays stable while rows are inserted. */
  list(filter: MessageFilter): Promise<WhatsappMessageEntity[]> {
    const query = this.dataSource
      .getRepository(WhatsappMessageEntity)
      .createQueryBuilder('m')
      .orderBy('m.created_at', 'DESC')
      .addOrderBy('m.id', 'DESC')
      .limit(filter.limit);
    if (filter.status) query.andWhere('m.status = :status', { status: filter.status });
    if (filter.direction)
      query.andWhere('m.direction = :direction', { direction: filter.direction });
    if (filter.to) query.andWhere('m."to" = :to', { to: filter.to });
    if (filter.reference)
      query.andWhere('m.reference = :reference', { reference: filter.reference });
    if (filter.since) query.andWhere('m.created_at >= :since', { since: filter.since });
    if (filter.until) query.andWhere('m.created_at < :until', { until: filter.until });
    if (filter.before) {
      query.andWhere('(m.created_at, m.id) < (:beforeAt, :beforeId)', {
        beforeAt: filter.before.createdAt,
        beforeId: filter.before.id,
      });
    }
    return ReadQueryException.wrap(() => query.getMany());
  }

  /**
   * One statement, so the read statement timeout bounds the whole computation (and every part
   * sees the same snapshot), and ONE scan of the window for everything but the top errors: the
   * count of each status the state machine knows (no writer stores another), and the latency
   * percentiles over `date_part` (double precision: sorting `extract`'s numeric took twice as
   * long). The top errors read only failed rows.
   */
  async metrics(since: Date, until: Date): Promise<MetricsRow> {
    const inWindow = `direction = 'outbound' AND created_at >= $1 AND created_at < $2`;
    const latency = [
      'accepted_at:sent_at:acceptedToSent',
      'sent_at:delivered_at:sentToDelivered',
      'delivered_at:read_at:deliveredToRead',
    ]
      .map((spec) => {
        const [from, to, name] = spec.split(':');
        return `percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP
                  (ORDER BY date_part('epoch', ${to} - ${from}) * 1000)
                  FILTER (WHERE ${from} IS NOT NULL AND ${to} IS NOT NULL AND ${to} >= ${from}) AS "${name}"`;
      })
      .join(', ');
    const statusCounts = OUTBOUND_STATUSES.map(
      (_status, index) => `count(*) FILTER (WHERE status = $${index + 3})::int AS "s${index}"`,
    ).join(', ');
    const [row] = await ReadQueryException.wrap(() =>
      this.dataSource.query<MetricsScan[]>(
        `SELECT count(*)::int AS total,
                ${statusCounts},
                count(*) FILTER (WHERE status = 'failed' AND sent_at IS NOT NULL)::int AS "failedAfterSent",
                ${latency},
                (SELECT coalesce(json_agg(e ORDER BY e.count DESC, e."errorCode"), '[]') FROM (
                   SELECT error_code AS "errorCode", max(error_message) AS "errorMessage", count(*)::int AS count
                     FROM whatsapp_messages
                    WHERE ${inWindow} AND status IN ('failed', 'undelivered') AND error_code IS NOT NULL
                    GROUP BY error_code ORDER BY count(*) DESC, error_code LIMIT 10) e) AS "topErrors"
           FROM whatsapp_messages WHERE ${inWindow}`,
        [since, until, ...OUTBOUND_STATUSES],
      ),
    );
    const percentiles = (values: number[] | null): Percentiles => ({
      p50: values?.[0] ?? null,
      p95: values?.[1] ?? null,
      p99: values?.[2] ?? null,
    });
    const byStatus: Record<string, number> = {};
    OUTBOUND_STATUSES.forEach((status, index) => {
      const count = row[`s${index}`];
      if (count > 0) byStatus[status] = count;
    });
    const count = (status: string): number => byStatus[status] ?? 0;
    return {
      total: row.total,
      byStatus,
      sentOrLater:
        count('sent') +
        count('delivered') +
        count('read') +
        count('undelivered') +
        row.failedAfterSent,
      deliveredOrRead: count('delivered') + count('read'),
      read: count('read'),
      failedOrUndelivered: count('failed') + count('undelivered'),
      topErrors: row.topErrors,
      latency: {
        acceptedToSent: percentiles(row.acceptedToSent),
        sentToDelivered: percentiles(row.sentToDelivered),
        deliveredToRead: percentiles(row.deliveredToRead),
      },
    };
  }
}

interface MetricsScan {
  total: number;
  failedAfterSent: number;
  topErrors: MetricsRow['topErrors'];
  acceptedToSent: number[] | null;
  sentToDelivered: number[] | null;
  deliveredToRead: number[] | null;
  [statusCount: `s${number}`]: number;
}
