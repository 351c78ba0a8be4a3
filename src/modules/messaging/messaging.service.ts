import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { BatchRefused } from '../../common/batcher';
import { isNotWritten } from '../../database/postgres-errors';
import { maskPhone } from '../../common/logging/mask';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import type { Principal } from '../auth/auth.types';
import { DeliveryService } from '../delivery/delivery.service';
import { DeliveryQueriesService } from '../delivery/queries/delivery-queries.service';
import type { MessageResponse } from '../delivery/queries/dto/message.response';
import { canonicalJson } from './canonical-json';
import type { SendAccepted, SendMessageDto } from './dto/send-message.dto';
import { IdempotencyRepository } from './idempotency.repository';
import { MessagingException } from './messaging.exception';
import { OutboundQueue } from './outbound.queue';
import { normalizeWhatsappNumber } from '../../common/phone';
import { decideSend } from './send-policy';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export interface SendResult {
  status: number;
  body: SendAccepted;
  /** For the request's log line: the message, the masked number, whether the job was queued. */
  logFields?: Record<string, unknown>;
}

@Injectable()
export class MessagingService {
  private readonly logger = new Logger(MessagingService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly delivery: DeliveryService,
    private readonly queue: OutboundQueue,
    private readonly idempotency: IdempotencyRepository,
    private readonly queries: DeliveryQueriesService,
  ) {}

  /**
   * Outbox (docs/architecture.md §4.1): the row is committed before the job is added, and the
   * answer does not wait on Redis longer than ENQUEUE_TIMEOUT_MS. With an Idempotency-Key, the same body gets
   * the first answer again; another body 422; a first request still running 409.
   */
  async send(
    principal: Principal,
    dto: SendMessageDto,
    idempotencyKey?: string,
  ): Promise<SendResult> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw MessagingException.invalidIdempotencyKey();
    }
    if (idempotencyKey !== undefined) {
      const hash = createHash('sha256').update(canonicalJson(dto)).digest('hex');
      const claim = await this.idempotency
        .claim(principal.userId, idempotencyKey, hash)
        .catch((error: unknown) => {
          throw notStoredOr(error);
        });
      switch (claim.kind) {
        case 'replay':
          return { status: claim.status, body: claim.body as SendAccepted };
        case 'reused':
          throw MessagingException.idempotencyKeyReused();
        case 'in-flight':
          throw MessagingException.idempotencyKeyInFlight();
        case 'new':
          break;
      }
    }
    let id: string;
    try {
      id = await this.createPending(principal, dto, idempotencyKey);
    } catch (error) {
      if (idempotencyKey !== undefined) {
        // Best effort: with the database away this fails too, and an abandoned claim is freed
        // by its own timeout; the answer is about the send, not the release.
        await this.idempotency
          .release(principal.userId, idempotencyKey)
          .catch((releaseError: unknown) =>
            this.logger.warn({ err: releaseError }, 'Could not release an idempotency key'),
          );
      }
      throw notStoredOr(error);
    }
    const queued = await this.queue.enqueue(id, 1);
    return {
      status: 202,
      body: accepted(id),
      logFields: { messageId: id, to: maskPhone(dto.to), queued },
    };
  }

  private async createPending(
    principal: Principal,
    dto: SendMessageDto,
    idempotencyKey?: string,
  ): Promise<string> {
    const phone = normalizeWhatsappNumber(dto.to);
    if (!phone.ok) throw new Error('send DTO validation let an invalid number through');
    const contact = await this.delivery.findContact(phone.e164);
    const decision = decideSend({
      isTemplate: dto.contentSid !== undefined,
      windowCheck: this.config.sending.windowCheck,
      lastInboundAt: contact?.lastInboundAt ?? null,
      optedOutAt: contact?.optedOutAt ?? null,
      now: Date.now(),
    });
    if (decision === 'opted-out') throw MessagingException.optedOut();
    if (decision === 'window-closed') throw MessagingException.windowClosed();
    const mediaUrls = dto.mediaUrl === undefined ? [] : [dto.mediaUrl].flat();
    return this.delivery.createPending(
      {
        from: this.config.twilio.messagingServiceSid
          ? null
          : (this.config.twilio.whatsappFrom ?? null),
        to: phone.address,
        body: dto.message ?? null,
        contentSid: dto.contentSid ?? null,
        contentVariables: dto.contentVariables ?? null,
        mediaUrls,
        reference: dto.reference ?? null,
        metadata: dto.metadata ?? null,
        createdBy: principal.userId,
        idempotencyKey: idempotencyKey ?? null,
        maxAttempts: this.config.sending.maxAttempts,
      },
      idempotencyKey === undefined
        ? undefined
        : (manager, id) =>
            this.idempotency.complete(manager, principal.userId, idempotencyKey, 202, accepted(id)),
    );
  }

  /** An admin's retry of a failed message whose last error was retryable (a new job id). */
  async retry(messageId: string): Promise<MessageResponse> {
    const attempts = await this.delivery.retry(messageId, this.config.sending.maxAttempts);
    if (attempts === null) {
      await this.queries.messageWithHistory(messageId); // 404 NOT_FOUND for an unknown message
      throw MessagingException.notRetryable();
    }
    // Read before the job is queued: the answer shows the message as the retry left it
    // (`pending`), not whatever a quick worker has made of it since (`dispatching`, …).
    const retried = await this.queries.messageWithHistory(messageId);
    await this.queue.enqueue(messageId, attempts + 1);
    this.logger.log({ messageId, attempt: attempts + 1 }, 'Message queued again by an admin');
    return retried;
  }
}

/**
 * A write that certainly did not happen (no connection, a cancelled statement, a batch that never
 * started) is a 503 the client retries. Anything else keeps its own answer: after a client-side
 * read timeout the row may still have been committed, and "nothing was stored" would invite a
 * second copy.
 */
function notStoredOr(error: unknown): unknown {
  return isNotWritten(error) || error instanceof BatchRefused
    ? MessagingException.notStored()
    : error;
}

function accepted(id: string): SendAccepted {
  return { success: true, id, status: 'pending', messageSid: null };
}
