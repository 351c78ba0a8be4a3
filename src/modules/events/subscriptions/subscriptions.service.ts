import { Inject, Injectable } from '@nestjs/common';
import { AppException } from '../../../common/errors/app.exception';
import { ErrorCode } from '../../../common/errors/error-code';
import type { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.constants';
import { DeliveriesRepository, type DeliveryRow } from '../dispatch/deliveries.repository';
import {
  checkUrl,
  DestinationRefused,
  hostOf,
  resolveAllowed,
  systemResolver,
  type Resolver,
} from '../dispatch/destination-guard';
import { EVENTS_RESOLVER } from '../dispatch/event-dispatcher.service';
import { newWebhookSecret } from '../dispatch/webhook-signature';
import { eventId } from '../event-shape';
import type {
  AttemptsQuery,
  CreateSubscriptionDto,
  DeliveryListResponse,
  DeliveryResponse,
  UpdateSubscriptionDto,
} from './dto/subscription.dto';
import { SubscriptionsRepository, type SubscriptionRow } from './subscriptions.repository';

const EVENT_ID = /^evt_(\d{1,18})$/;

/** The subscriptions' admin side (the API): CRUD, rotation, tests, replays and the attempts. */
@Injectable()
export class SubscriptionsService {
  private readonly resolver: Resolver;

  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly deliveries: DeliveriesRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(EVENTS_RESOLVER) resolver: Resolver | null,
  ) {
    this.resolver = resolver ?? systemResolver;
  }

  async create(
    body: CreateSubscriptionDto,
    createdBy: string,
  ): Promise<SubscriptionRow & { secret: string }> {
    const url = await this.checkedUrl(body.url);
    const row = await this.subscriptions.create({
      url,
      events: body.events,
      description: body.description ?? null,
      rateLimit: body.rateLimit ?? null,
      secret: newWebhookSecret(),
      createdBy,
    });
    return row;
  }

  list(): Promise<SubscriptionRow[]> {
    return this.subscriptions.list();
  }

  async get(id: string): Promise<SubscriptionRow> {
    return found(await this.subscriptions.find(id));
  }

  async update(id: string, body: UpdateSubscriptionDto): Promise<SubscriptionRow> {
    await this.get(id);
    return found(
      await this.subscriptions.update(id, {
        ...(body.url !== undefined ? { url: await this.checkedUrl(body.url) } : {}),
        ...(body.events !== undefined ? { events: body.events } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.rateLimit !== undefined ? { rateLimit: body.rateLimit } : {}),
        ...(body.disabled !== undefined ? { disabled: body.disabled } : {}),
      }),
    );
  }

  async delete(id: string): Promise<void> {
    if (!(await this.subscriptions.delete(id))) throw notFound();
  }

  async rotateSecret(id: string): Promise<SubscriptionRow> {
    return found(
      await this.subscriptions.rotateSecret(
        id,
        newWebhookSecret(),
        this.config.events.secretOverlapMs,
      ),
    );
  }

  /** Queues a `ping`; its `webhook-id`. */
  async test(id: string): Promise<string> {
    const delivery = await this.deliveries.queuePing(id);
    if (delivery === null) throw notFound();
    return `ping_${delivery}`;
  }

  async replay(id: string, since: string): Promise<number> {
    const from = new Date(since);
    if (Number.isNaN(from.getTime())) {
      throw new AppException(ErrorCode.ValidationFailed, 'since is not a time.', [
        { field: 'since', message: 'since must be an ISO-8601 date-time with an offset' },
      ]);
    }
    const queued = await this.deliveries.replay(id, from);
    if (queued === null) throw notFound();
    return queued;
  }

  async resend(publicEventId: string, subscriptionId: string): Promise<void> {
    const rowId = EVENT_ID.exec(publicEventId)?.[1];
    if (!rowId) throw new AppException(ErrorCode.NotFound, 'No event with this id.');
    const queued = await this.deliveries.resend(subscriptionId, rowId);
    if (queued === null) throw notFound();
    if (!queued) {
      throw new AppException(
        ErrorCode.NotFound,
        'No event with this id for this subscription yet (or no longer kept).',
      );
    }
  }

  async attempts(id: string, query: AttemptsQuery): Promise<DeliveryListResponse> {
    await this.get(id);
    const limit = query.limit ?? 50;
    const rows = await this.deliveries.page(id, query.status, limit + 1, query.cursor);
    const page = rows.slice(0, limit);
    return {
      items: page.map(toDeliveryResponse),
      nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
    };
  }

  /**
   * The URL as it will be used, refused with a 400 on `url` unless it may be delivered to: the
   * checks every attempt makes again (scheme, port, a public address for a literal, and what the
   * name resolves to now).
   */
  private async checkedUrl(raw: string): Promise<string> {
    const policy = { allowPrivate: this.config.eventsAllowPrivate };
    try {
      const url = checkUrl(raw, policy);
      await resolveAllowed(hostOf(url), policy, this.resolver);
      return url.toString();
    } catch (error) {
      const message =
        error instanceof DestinationRefused ? error.message : 'url host does not resolve';
      throw new AppException(ErrorCode.ValidationFailed, 'The url cannot receive events.', [
        { field: 'url', message },
      ]);
    }
  }
}

function notFound(): AppException {
  return new AppException(ErrorCode.NotFound, 'No subscription with this id.');
}

function found(row: SubscriptionRow | null): SubscriptionRow {
  if (!row) throw notFound();
  return row;
}

function toDeliveryResponse(row: DeliveryRow): DeliveryResponse {
  return {
    id: row.id,
    webhookId: row.kind === 'ping' || !row.eventId ? `ping_${row.id}` : eventId(row.eventId),
    status: row.state === 'in_flight' ? 'pending' : row.state,
    attempts: row.attempts,
    nextAttemptAt:
      row.state === 'pending' || row.state === 'in_flight' ? row.nextAttemptAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    history: row.history.map((entry) => ({
      ...entry,
      startedAt: new Date(entry.startedAt).toISOString(),
    })),
  };
}
