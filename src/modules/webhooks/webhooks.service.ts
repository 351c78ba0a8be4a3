import { Injectable, Logger } from '@nestjs/common';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import { isDataException } from '../../database/postgres-errors';
import { isUuid } from '../../common/ids';
import { maskPhone, maskPhoneNumbersInText } from '../../common/logging/mask';
import { FaultWatchService } from '../delivery/catch-up/fault-watch.service';
import { DeliveryService } from '../delivery/delivery.service';
import { field, parseInbound, type FormFields } from './inbound-fields';
import { WebhookMetricsService } from './webhook-metrics.service';

/** What a webhook did, for its request's log line (no full phone numbers). */
export type WebhookLogFields = Record<string, unknown>;

/**
 * Persist, then answer (docs/architecture.md §4.2): a failure to persist is a 503, so Twilio
 * retries.
 */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly delivery: DeliveryService,
    private readonly metrics: WebhookMetricsService,
    private readonly faults: FaultWatchService,
  ) {}

  async statusCallback(
    fields: FormFields,
    mid: string | undefined,
    token: string | null,
  ): Promise<WebhookLogFields> {
    const sid = field(fields, 'MessageSid') ?? field(fields, 'SmsSid');
    const status = field(fields, 'MessageStatus') ?? field(fields, 'SmsStatus');
    if (!sid || !status) {
      throw new AppException(
        ErrorCode.BadRequest,
        'A status callback needs MessageSid and MessageStatus.',
      );
    }
    const code = Number(field(fields, 'ErrorCode'));
    const [result] = await this.persist('status', () =>
      this.delivery.applyStatusEvents([
        {
          ...(mid !== undefined && isUuid(mid) ? { messageId: mid.toLowerCase() } : {}),
          twilioSid: sid,
          status: status.toLowerCase(),
          errorCode: Number.isInteger(code) && code > 0 && code < 2 ** 31 ? code : null,
          errorMessage: maskPhoneNumbersInText(field(fields, 'ErrorMessage')),
          source: 'callback',
          payload: { ...fields },
          idempotencyToken: token,
        },
      ]),
    );
    const label =
      result.outcome === 'duplicate' ? 'duplicate' : result.outcome === 'orphan' ? 'orphan' : 'ok';
    this.metrics.count('status', label);
    return { messageId: result.messageId, sid, status, outcome: result.outcome };
  }

  async inboundMessage(fields: FormFields, token: string | null): Promise<WebhookLogFields> {
    const message = parseInbound(fields, token);
    if (!message)
      throw new AppException(
        ErrorCode.BadRequest,
        'An inbound message needs MessageSid, From and To.',
      );
    const [outcome] = await this.persist('inbound', () => this.delivery.recordInbound([message]));
    this.metrics.count('inbound', outcome === 'duplicate' ? 'duplicate' : 'ok');
    return {
      sid: message.twilioSid,
      from: maskPhone(message.from),
      outcome,
      ...(message.optOut === undefined ? {} : { optOut: message.optOut }),
    };
  }

  private async persist<T>(endpoint: 'status' | 'inbound', work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.metrics.count(endpoint, 'error');
      // A value no retry can store (a NUL byte, an over-long field): 400, so nobody retries it.
      if (isDataException(error)) {
        throw new AppException(
          ErrorCode.BadRequest,
          'The event holds a value that cannot be stored.',
        );
      }
      this.logger.error(
        { err: error, endpoint },
        'Could not persist a webhook; answering 503 so Twilio retries',
      );
      // Twilio retries only a few times at once: the reconciler looks once this is over.
      this.faults.noteShed();
      throw new AppException(
        ErrorCode.ServiceUnavailable,
        'The event could not be recorded; retry later.',
        undefined,
        {
          'retry-after': '5',
        },
      );
    }
  }
}
