import twilio, { type Twilio } from 'twilio';
import type { MessageInstance } from 'twilio/lib/rest/api/v2010/account/message';
import { maskPhoneNumbersInText } from '../../common/logging/mask';
import { TwilioHttpClient } from './twilio-http-client';
import type {
  CreateMessageInput,
  ListMessagesFilter,
  TwilioMessage,
  TwilioSettings,
} from './twilio.types';

const DEFAULT_LIST_LIMIT = 50;

/**
 * The adapter over twilio-node's REST client: create, fetch and list Messages. Errors come out
 * as TwilioApiError (Twilio's code, status, Retry-After) or TwilioNetworkError (see
 * twilio-http-client.ts); the SDK's own auto-retry is off, because retrying a create is the
 * messaging module's decision (a blind retry after a 5xx can send twice).
 */
export class TwilioClient {
  private readonly sdk: Twilio;

  constructor(settings: TwilioSettings) {
    this.sdk = twilio(settings.accountSid, settings.authToken, {
      httpClient: new TwilioHttpClient(settings.apiBaseUrl, settings.timeoutMs),
      autoRetry: false,
      lazyLoading: true,
    });
  }

  async createMessage(input: CreateMessageInput): Promise<TwilioMessage> {
    const message = await this.sdk.messages.create({
      to: input.to,
      ...(input.from !== undefined ? { from: input.from } : {}),
      ...(input.messagingServiceSid !== undefined
        ? { messagingServiceSid: input.messagingServiceSid }
        : {}),
      ...(input.body !== undefined ? { body: input.body } : {}),
      ...(input.mediaUrls?.length ? { mediaUrl: input.mediaUrls } : {}),
      ...(input.contentSid !== undefined ? { contentSid: input.contentSid } : {}),
      ...(input.contentVariables !== undefined
        ? { contentVariables: JSON.stringify(input.contentVariables) }
        : {}),
      ...(input.statusCallback !== undefined ? { statusCallback: input.statusCallback } : {}),
    });
    return toTwilioMessage(message);
  }

  async fetchMessage(sid: string): Promise<TwilioMessage> {
    return toTwilioMessage(await this.sdk.messages(sid).fetch());
  }

  /** Newest first, following Twilio's pages up to `limit`. */
  async listMessages(filter: ListMessagesFilter): Promise<TwilioMessage[]> {
    const limit = filter.limit ?? DEFAULT_LIST_LIMIT;
    const messages = await this.sdk.messages.list({
      ...(filter.to !== undefined ? { to: filter.to } : {}),
      ...(filter.from !== undefined ? { from: filter.from } : {}),
      ...(filter.dateSentAfter !== undefined ? { dateSentAfter: filter.dateSentAfter } : {}),
      limit,
      pageSize: Math.min(limit, 1000),
    });
    return messages.map(toTwilioMessage);
  }
}

function toTwilioMessage(message: MessageInstance): TwilioMessage {
  return {
    sid: message.sid,
    status: message.status,
    to: message.to,
    from: message.from,
    body: message.body ?? null,
    messagingServiceSid: message.messagingServiceSid ?? null,
    errorCode: message.errorCode ?? null,
    // Stored by the reconciler as the message's error_message: no recipient number in it.
    errorMessage: maskPhoneNumbersInText(message.errorMessage ?? null),
    numMedia: Number(message.numMedia) || 0,
    dateCreated: validDate(message.dateCreated),
    dateSent: validDate(message.dateSent),
    dateUpdated: validDate(message.dateUpdated),
  };
}

function validDate(value: Date | null | undefined): Date | null {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value : null;
}
