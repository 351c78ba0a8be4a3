import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';
import { maskPhone } from '../../common/logging/mask';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { DeliveryService } from '../delivery/delivery.service';
import { TwilioClient } from '../twilio/twilio.client';
import { TwilioApiError, TwilioNetworkError } from '../twilio/twilio.errors';
import type { TwilioMessage } from '../twilio/twilio.types';
import { OutboundQueue } from './outbound.queue';
import { decideRetry, type SendFailure } from './retry-policy';
import type { ClaimedMessage } from '../delivery/delivery.types';

// Twilio's clock and ours may disagree; look a little before the uncertain attempt began.
const LOOKUP_SKEW_MS = 60_000;
const LOOKUP_LIMIT = 50;
export const SEND_ATTEMPTS = 'whatsapp_send_attempts_total';

export interface DispatchOutcome {
  /** Twilio asked to slow down: pause the whole sender this long. */
  backOffSenderMs?: number;
}

/**
 * One send attempt (docs/architecture.md §4.1): claim the row, look first when an earlier
 * attempt may have reached Twilio, call Twilio, store the answer, or decide the retry. Safe to
 * run twice: a job that cannot claim the row does nothing.
 */
@Injectable()
export class DispatchService {
  private readonly logger = new Logger(DispatchService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queue: OutboundQueue,
    private readonly twilio: TwilioClient,
    private readonly delivery: DeliveryService,
    @InjectMetric(SEND_ATTEMPTS)
    private readonly attempts: Counter<'result' | 'error_code'>,
  ) {}

  async dispatch(messageId: string): Promise<DispatchOutcome> {
    const claimed = await this.delivery.claimForSend(
      messageId,
      this.config.sending.dispatchStaleMs,
    );
    if (!claimed) {
      this.logger.debug({ messageId }, 'Job found the message already taken or done');
      return {};
    }
    const context = { messageId, attempt: claimed.attempt, to: maskPhone(claimed.to) };
    let answer: { message: TwilioMessage; adopted: boolean };
    try {
      const found =
        claimed.uncertainSince === null
          ? null
          : await this.findAtTwilio(claimed, claimed.uncertainSince);
      answer = found
        ? { message: found, adopted: true }
        : { message: await this.create(claimed), adopted: false };
    } catch (error) {
      return this.handleFailure(claimed, error, context);
    }
    // Twilio has the message from here on: said in the log first, so a write that fails still
    // leaves its SID beside the message id. Recording it is outside the try: a write that fails
    // must not count as a failed send (retried, or on the last attempt marked failed) — the job
    // fails instead, and the row stays `dispatching` until a callback or a takeover (which looks
    // at Twilio first) records it.
    const { message, adopted } = answer;
    if (adopted) {
      this.logger.log(
        { ...context, sid: message.sid },
        'Adopted the message an earlier attempt created',
      );
    } else {
      this.attempts.inc({ result: 'ok', error_code: '' });
      this.logger.log(
        { ...context, sid: message.sid, status: message.status },
        'Twilio accepted the message',
      );
    }
    await this.accept(claimed, message);
    return {};
  }

  private create(claimed: ClaimedMessage): Promise<TwilioMessage> {
    return this.twilio.createMessage({
      to: claimed.to,
      ...(claimed.from !== null ? { from: claimed.from } : {}),
      ...(claimed.from === null && this.config.twilio.messagingServiceSid
        ? { messagingServiceSid: this.config.twilio.messagingServiceSid }
        : {}),
      ...(claimed.body !== null ? { body: claimed.body } : {}),
      mediaUrls: claimed.mediaUrls,
      ...(claimed.contentSid !== null ? { contentSid: claimed.contentSid } : {}),
      ...(claimed.contentVariables !== null ? { contentVariables: claimed.contentVariables } : {}),
      statusCallback: this.statusCallbackFor(claimed.id),
    });
  }

  /** PUBLIC_BASE_URL/api/v1/whatsapp/status?mid=<id>#rc=3&rp=5xx,rt,ct (the fragment is not signed). */
  statusCallbackFor(messageId: string): string {
    return `${this.config.publicBaseUrl}/api/v1/whatsapp/status?mid=${messageId}#rc=3&rp=5xx,rt,ct`;
  }

  private async accept(claimed: ClaimedMessage, message: TwilioMessage): Promise<void> {
    await this.delivery.recordAccepted(claimed, {
      sid: message.sid,
      status: message.status,
      errorCode: message.errorCode,
      errorMessage: message.errorMessage,
    });
  }

  /**
   * The double-send guard: a message to the same recipient from the same sender, created since
   * the uncertain attempt began, with the same body (templates: Twilio does not report the
   * ContentSid, so any body), whose SID no other message of ours holds. Oldest first.
   */
  private async findAtTwilio(claimed: ClaimedMessage, since: Date): Promise<TwilioMessage | null> {
    const listed = await this.twilio.listMessages({
      to: claimed.to,
      ...(claimed.from !== null ? { from: claimed.from } : {}),
      limit: LOOKUP_LIMIT,
    });
    const from = since.getTime() - LOOKUP_SKEW_MS;
    const candidates = listed
      .filter((message) => message.dateCreated !== null && message.dateCreated.getTime() >= from)
      .filter(
        (message) => claimed.contentSid !== null || (message.body ?? '') === (claimed.body ?? ''),
      )
      .reverse();
    for (const candidate of candidates) {
      if (!(await this.delivery.sidTaken(candidate.sid, claimed.id))) return candidate;
    }
    return null;
  }

  private async handleFailure(
    claimed: ClaimedMessage,
    error: unknown,
    context: Record<string, unknown>,
  ): Promise<DispatchOutcome> {
    const failure = toFailure(error);
    const errorCode = error instanceof TwilioApiError ? (error.code ?? null) : null;
    const errorMessage = describe(error);
    const decision = decideRetry(failure, {
      attempt: claimed.attempt,
      maxAttempts: claimed.maxAttempts,
      baseDelayMs: this.config.sending.retryBaseMs,
      maxDelayMs: this.config.sending.retryMaxMs,
      random: Math.random,
    });
    this.attempts.inc({
      result: decision.action === 'fail' ? 'failed' : 'retry',
      error_code:
        errorCode === null
          ? error instanceof TwilioNetworkError
            ? 'network'
            : ''
          : String(errorCode),
    });
    if (decision.action === 'fail') {
      this.logger.warn(
        { ...context, errorCode, reason: errorMessage, retryable: decision.retryable },
        'Send failed',
      );
      await this.delivery.recordSendFailure(claimed, {
        errorCode,
        errorMessage,
        retryable: decision.retryable,
      });
      return {};
    }
    this.logger.warn(
      {
        ...context,
        errorCode,
        reason: errorMessage,
        retryInMs: decision.delayMs,
        uncertain: decision.uncertain,
      },
      'Send attempt failed; retrying',
    );
    const attempts = await this.delivery.scheduleRetry(claimed, {
      delayMs: decision.delayMs,
      errorCode,
      errorMessage,
      uncertain: decision.uncertain,
    });
    // If Redis does not take the job now, the sweeper queues it once it is due.
    if (attempts !== null) await this.queue.enqueue(claimed.id, attempts + 1, decision.delayMs);
    return decision.backOffSender ? { backOffSenderMs: decision.delayMs } : {};
  }
}

function toFailure(error: unknown): SendFailure {
  if (error instanceof TwilioApiError) {
    return {
      kind: 'api',
      status: error.status,
      code: error.code,
      retryAfterSeconds: error.retryAfterSeconds,
    };
  }
  if (error instanceof TwilioNetworkError)
    return { kind: 'network', maybeProcessed: error.maybeProcessed };
  // Anything else happened before or around the call: treat it as a network failure of unknown outcome.
  return { kind: 'network', maybeProcessed: true };
}

function describe(error: unknown): string {
  if (error instanceof TwilioNetworkError) return `network (${error.kind}): ${error.message}`;
  if (error instanceof Error) return error.message.slice(0, 500);
  return String(error).slice(0, 500);
}
