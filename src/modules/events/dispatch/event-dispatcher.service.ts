import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { Batcher } from '../../../common/batcher';
import type { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.constants';
import { mayBelongToOneItem } from '../../../database/postgres-errors';
import { EventLogReader } from '../../delivery/queries/event-log.reader';
import { toEvent } from '../event-shape';
import {
  DeliveriesRepository,
  type AttemptVerdict,
  type ClaimedDelivery,
  type FinishedAttempt,
  type ServedSubscription,
} from './deliveries.repository';
import type { AttemptResult, RetryPolicy } from './delivery-moves';
import { systemResolver, type Resolver } from './destination-guard';
import { pingBody } from './ping';
import { signWebhook } from './webhook-signature';
import { WebhookSender } from './webhook-sender';

export const DELIVERIES_TOTAL = 'whatsapp_events_deliveries_total';
export const SUBSCRIPTIONS_DISABLED_TOTAL = 'whatsapp_events_subscriptions_disabled_total';
/** Why the dispatcher disables a subscription (the `reason` label), exported from 0. */
export const DISABLE_REASONS = ['gone', 'failing'] as const;
/** Every value of `result`, exported at 0 from the start. */
export const DELIVERY_RESULTS = ['succeeded', 'retry', 'failed', 'gone', 'stale'] as const;
/** Resolves subscription hosts (tests inject one that needs no DNS). */
export const EVENTS_RESOLVER = Symbol('EVENTS_RESOLVER');

/** Events fanned out per subscription per statement, and statements per round at most. */
const FAN_OUT_BATCH = 500;
const FAN_OUT_ROUNDS = 20;
/** A claim's lease outlives the attempt's timeout by this much before another may retry it. */
const LEASE_MARGIN_MS = 20_000;

/**
 * Delivers events to the subscriptions (worker roles): each round fans the event log out into
 * deliveries, claims what is due lane by lane, sends each signed attempt, and writes the
 * outcomes in group commits. A finished attempt starts the next round at once, so a lane moves
 * at the receiver's pace; an idle dispatcher looks again every `pollMs`. Every state lives in
 * PostgreSQL: a restart (or an empty Redis) loses nothing, and a delivery a dead replica held is
 * retried when its lease runs out.
 */
@Injectable()
export class EventDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventDispatcher.name);
  private readonly sender: WebhookSender;
  private readonly recorder: Batcher<FinishedAttempt, AttemptVerdict>;
  private readonly sending = new Set<Promise<void>>();
  private readonly policy: RetryPolicy;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly log: EventLogReader,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectMetric(DELIVERIES_TOTAL) private readonly results: Counter<'result'>,
    @InjectMetric(SUBSCRIPTIONS_DISABLED_TOTAL) private readonly disabled: Counter<'reason'>,
    @Inject(EVENTS_RESOLVER) resolver: Resolver | null,
  ) {
    for (const result of DELIVERY_RESULTS) this.results.inc({ result }, 0);
    for (const reason of DISABLE_REASONS) this.disabled.inc({ reason }, 0);
    const events = config.events;
    this.policy = {
      scheduleMs: events.retryScheduleMs,
      jitter: 0.1,
      maxRetryAfterMs: events.maxRetryAfterMs,
      disableAfterMs: events.disableAfterMs,
    };
    this.sender = new WebhookSender({
      policy: { allowPrivate: config.eventsAllowPrivate },
      resolver: resolver ?? systemResolver,
      timeoutMs: events.timeoutMs,
      // EVENTS_MAX_IN_FLIGHT bounds each subscription; many may share a host.
      maxSockets: Infinity,
    });
    this.recorder = new Batcher({
      run: (attempts) => this.deliveries.record(attempts, this.policy),
      isolate: mayBelongToOneItem,
      logger: this.logger,
      noun: 'event delivery attempts',
      maxInFlight: 1,
      // Shorter than the lease margin: an attempt not written by then is refused (its lease
      // runs out and it is tried again) rather than written after another dispatcher took it.
      maxWaitMs: 15_000,
    });
  }

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
    // Attempts under way finish within their timeout and are written; a process killed
    // instead leaves them to their lease.
    await Promise.allSettled([...this.sending]);
    await this.recorder.drain();
    this.sender.close();
  }

  /** Runs a round now (after the current one, if one is running). */
  kick(): void {
    if (this.round) this.again = true;
    else this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.round = this.runRound().finally(() => {
        this.round = undefined;
        const again = this.again;
        this.again = false;
        this.schedule(again ? 0 : this.config.events.pollMs);
      });
    }, delayMs);
  }

  /** One round: fan out, claim, start the sends. Exported for tests. */
  async runRound(): Promise<void> {
    let subscriptions: ServedSubscription[];
    try {
      subscriptions = await this.deliveries.subscriptions();
    } catch (error) {
      this.logger.warn({ error: (error as Error).message }, 'An event delivery round failed');
      return;
    }
    // One subscription's failure (a timeout on a huge backlog) must not starve the others.
    for (const subscription of subscriptions) {
      if (this.stopped) return;
      try {
        await this.serve(subscription);
      } catch (error) {
        this.logger.warn(
          { subscriptionId: subscription.id, error: (error as Error).message },
          'Serving an event subscription failed',
        );
      }
    }
  }

  private async serve(subscription: ServedSubscription): Promise<void> {
    if (subscription.hasEvents) {
      for (let round = 0; round < FAN_OUT_ROUNDS; round += 1) {
        if ((await this.deliveries.fanOut(subscription.id, FAN_OUT_BATCH)) < FAN_OUT_BATCH) break;
      }
    }
    if (subscription.disabled || !(subscription.hasDue || subscription.hasEvents)) return;
    const claimed = await this.deliveries.claim(
      subscription.id,
      this.config.events.maxInFlight,
      this.config.events.timeoutMs + LEASE_MARGIN_MS,
    );
    if (claimed.length > 0) await this.start(claimed);
  }

  /** Resolves once every delivery claimed so far was attempted and written (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.sending.size > 0 || this.round) {
      await Promise.allSettled([...this.sending, this.round]);
    }
  }

  private async start(claimed: ClaimedDelivery[]): Promise<void> {
    const eventIds = claimed.flatMap((delivery) => (delivery.eventId ? [delivery.eventId] : []));
    const events = new Map((await this.log.byIds(eventIds)).map((event) => [event.id, event]));
    for (const delivery of claimed) {
      const body =
        delivery.kind === 'ping'
          ? pingBody(delivery)
          : (() => {
              const logged = delivery.eventId ? events.get(delivery.eventId) : undefined;
              const event = logged ? toEvent(logged) : null;
              return event ? { id: event.id, json: JSON.stringify(event) } : null;
            })();
      const sent = this.attempt(delivery, body).finally(() => this.sending.delete(sent));
      this.sending.add(sent);
    }
  }

  private async attempt(
    delivery: ClaimedDelivery,
    body: { id: string; json: string } | null,
  ): Promise<void> {
    const startedAt = new Date();
    const result: AttemptResult = body
      ? await this.sender.post(
          delivery.url,
          { ...signWebhook(body.id, Date.now() / 1000, body.json, delivery.secrets) },
          body.json,
        )
      : { kind: 'unsendable', reason: 'the event is no longer kept (retention)' };
    const finished: FinishedAttempt = {
      delivery,
      result,
      startedAt,
      durationMs: Date.now() - startedAt.getTime(),
    };
    try {
      const verdict = await this.recorder.submit(finished);
      this.results.inc({ result: verdict.result });
      if (verdict.disabled) {
        this.disabled.inc({ reason: verdict.disabled });
        this.logger.warn(
          { subscriptionId: delivery.subscriptionId, reason: verdict.disabled },
          'Event subscription disabled',
        );
      }
    } catch (error) {
      // Not written: the lease runs out and the delivery is attempted again (at least once).
      this.logger.warn(
        { deliveryId: delivery.id, error: (error as Error).message },
        'An event delivery attempt could not be recorded',
      );
    }
    this.kick();
  }
}
