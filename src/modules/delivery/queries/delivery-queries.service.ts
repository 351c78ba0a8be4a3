import { Injectable } from '@nestjs/common';
import { AppException } from '../../../common/errors/app.exception';
import { ErrorCode } from '../../../common/errors/error-code';
import { ReadQueryException } from '../../../common/errors/read-query.exception';
import { isUuid } from '../../../common/ids';
import { normalizeWhatsappNumber } from '../../../common/phone';
import { toMessageResponse, type MessageResponse } from './dto/message.response';
import type { ListMessagesQuery, MetricsQuery } from './dto/list-messages.dto';
import { MessageQueriesRepository, type Percentiles } from './message-queries.repository';
import { MessagesRepository } from './messages.repository';

const SID = /^(SM|MM)[0-9a-f]{32}$/i;
const DAY_MS = 24 * 3600_000;
/** The widest delivery-metrics window: bounds what one call can make Postgres scan. */
export const METRICS_MAX_DAYS = 31;

export interface DeliveryMetrics {
  since: string;
  until: string;
  total: number;
  byStatus: Record<string, number>;
  deliveryRate: number | null;
  readRate: number | null;
  failureRate: number | null;
  topErrors: { errorCode: number; errorMessage: string | null; count: number }[];
  latencyMs: {
    acceptedToSent: Percentiles;
    sentToDelivered: Percentiles;
    deliveredToRead: Percentiles;
  };
}

/**
 * The read side: one message with its history, the list, and the delivery metrics. The list and
 * the metrics scan what the client's filters select, so they run on the bounded read pool
 * (MessageQueriesRepository); a message by id or SID is two index lookups on the main pool, so
 * status polling stays fast while heavy reads fill theirs. Every read's database failures are
 * ReadQueryExceptions: too busy answers 503, never 500.
 */
@Injectable()
export class DeliveryQueriesService {
  constructor(
    private readonly messages: MessagesRepository,
    private readonly queries: MessageQueriesRepository,
  ) {}

  /**
   * By Twilio SID or by our id; unknown or malformed → 404, never a 500 (nor for a database too
   * busy to answer: that is the read path's 503).
   */
  messageWithHistory(idOrSid: string): Promise<MessageResponse> {
    return ReadQueryException.wrap(async () => {
      const message = isUuid(idOrSid)
        ? await this.messages.findById(idOrSid.toLowerCase())
        : SID.test(idOrSid)
          ? await this.messages.findBySid(idOrSid)
          : null;
      if (!message) throw new AppException(ErrorCode.NotFound, 'No message with this id or SID.');
      return toMessageResponse(message, await this.messages.history(message.id));
    });
  }

  async list(
    query: ListMessagesQuery,
  ): Promise<{ items: MessageResponse[]; nextCursor: string | null }> {
    const limit = query.limit ?? 50;
    const rows = await this.queries.list({
      status: query.status,
      direction: query.direction,
      to: query.to === undefined ? undefined : toAddress(query.to),
      reference: query.reference,
      since: query.since ? new Date(query.since) : undefined,
      until: query.until ? new Date(query.until) : undefined,
      before: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((message) => toMessageResponse(message)),
      nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  async metrics(query: MetricsQuery, now = Date.now()): Promise<DeliveryMetrics> {
    const until = query.until ? new Date(query.until) : new Date(now);
    const since = query.since ? new Date(query.since) : new Date(until.getTime() - DAY_MS);
    if (since >= until) {
      throw new AppException(ErrorCode.ValidationFailed, 'since must be before until.', [
        { field: 'since', message: 'since must be before until' },
      ]);
    }
    if (until.getTime() - since.getTime() > METRICS_MAX_DAYS * DAY_MS) {
      throw new AppException(
        ErrorCode.ValidationFailed,
        `The metrics window spans at most ${METRICS_MAX_DAYS} days.`,
        [
          {
            field: 'since',
            message: `since must be at most ${METRICS_MAX_DAYS} days before until`,
          },
        ],
      );
    }
    const row = await this.queries.metrics(since, until);
    return {
      since: since.toISOString(),
      until: until.toISOString(),
      total: row.total,
      byStatus: row.byStatus,
      deliveryRate: ratio(row.deliveredOrRead, row.sentOrLater),
      readRate: ratio(row.read, row.deliveredOrRead),
      failureRate: ratio(row.failedOrUndelivered, row.total),
      topErrors: row.topErrors,
      latencyMs: row.latency,
    };
  }
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

// A number that is not one matches nothing rather than failing the query.
function toAddress(to: string): string {
  const phone = normalizeWhatsappNumber(to);
  return phone.ok ? phone.address : to.trim();
}

/** An opaque cursor: the last row's (created_at, id). */
export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (Number.isNaN(createdAt.getTime()) || !isUuid(id ?? '')) {
    throw new AppException(ErrorCode.ValidationFailed, 'The cursor is invalid.', [
      { field: 'cursor', message: 'cursor must be a nextCursor from a previous page' },
    ]);
  }
  return { createdAt, id };
}
