import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WhatsappMessageEntity } from './entities/whatsapp-message.entity';

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

/** Read models: the message list and the delivery metrics, computed in SQL. */
@Injectable()
export class MessageQueriesRepository {
  constructor(private readonly dataSource: DataSource) {}

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
    return query.getMany();
  }

  async metrics(since: Date, until: Date): Promise<MetricsRow> {
    const window = [since, until];
    const inWindow = `direction = 'outbound' AND created_at >= $1 AND created_at < $2`;
    const [counts] = await this.dataSource.query<Record<string, number>[]>(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE status IN ('sent', 'delivered', 'read', 'undelivered')
                                  OR (status = 'failed' AND sent_at IS NOT NULL))::int AS "sentOrLater",
              count(*) FILTER (WHERE status IN ('delivered', 'read'))::int AS "deliveredOrRead",
              count(*) FILTER (WHERE status = 'read')::int AS read,
              count(*) FILTER (WHERE status IN ('failed', 'undelivered'))::int AS "failedOrUndelivered"
         FROM whatsapp_messages WHERE ${inWindow}`,
      window,
    );
    const byStatus = await this.dataSource.query<{ status: string; count: number }[]>(
      `SELECT status, count(*)::int AS count FROM whatsapp_messages WHERE ${inWindow} GROUP BY status`,
      window,
    );
    const topErrors = await this.dataSource.query<
      { errorCode: number; errorMessage: string | null; count: number }[]
    >(
      `SELECT error_code AS "errorCode", max(error_message) AS "errorMessage", count(*)::int AS count
         FROM whatsapp_messages
        WHERE ${inWindow} AND status IN ('failed', 'undelivered') AND error_code IS NOT NULL
        GROUP BY error_code ORDER BY count(*) DESC, error_code LIMIT 10`,
      window,
    );
    const [latency] = await this.dataSource.query<Record<string, number[] | null>[]>(
      `SELECT ${[
        'accepted_at:sent_at:acceptedToSent',
        'sent_at:delivered_at:sentToDelivered',
        'delivered_at:read_at:deliveredToRead',
      ]
        .map((spec) => {
          const [from, to, name] = spec.split(':');
          return `percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP
                    (ORDER BY extract(epoch FROM (${to} - ${from})) * 1000)
                    FILTER (WHERE ${from} IS NOT NULL AND ${to} IS NOT NULL AND ${to} >= ${from}) AS "${name}"`;
        })
        .join(', ')}
         FROM whatsapp_messages WHERE ${inWindow}`,
      window,
    );
    const percentiles = (values: number[] | null): Percentiles => ({
      p50: values?.[0] ?? null,
      p95: values?.[1] ?? null,
      p99: values?.[2] ?? null,
    });
    return {
      total: counts.total,
      byStatus: Object.fromEntries(byStatus.map((row) => [row.status, row.count])),
      sentOrLater: counts.sentOrLater,
      deliveredOrRead: counts.deliveredOrRead,
      read: counts.read,
      failedOrUndelivered: counts.failedOrUndelivered,
      topErrors,
      latency: {
        acceptedToSent: percentiles(latency.acceptedToSent),
        sentToDelivered: percentiles(latency.sentToDelivered),
        deliveredToRead: percentiles(latency.deliveredToRead),
      },
    };
  }
}
