import type { SimMessage } from './sim-store';

export const API_VERSION = '2010-04-01';

/**
 * Twilio's magic `To` numbers (README, "Twilio: the simulator and the real thing"): they always
 * fail with their code.
 */
export const MAGIC_NUMBERS: Readonly<Record<string, { code: number; message: string }>> = {
  '+15005550001': { code: 21211, message: "The 'To' number is not a valid phone number." },
  '+15005550002': { code: 21612, message: "The 'To' phone number is not currently reachable." },
  '+15005550003': {
    code: 21408,
    message:
      "Permission to send a message has not been enabled for the region indicated by the 'To' number.",
  },
  '+15005550004': { code: 21610, message: 'Attempt to send to unsubscribed recipient.' },
  '+15005550009': { code: 21614, message: "'To' number is not a valid mobile number." },
  '+15005550016': {
    code: 63016,
    message:
      'Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.',
  },
};

export const ERROR_MESSAGES: Readonly<Record<number, string>> = {
  30003: 'Unreachable destination handset.',
  30005: 'Unknown destination handset.',
  30006: 'Landline or unreachable carrier.',
  30007: 'Message filtered.',
  30008: 'Unknown error.',
  63016: MAGIC_NUMBERS['+15005550016'].message,
  63018: 'Rate limit exceeded for the channel.',
};

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

export function errorBody(status: number, code: number, message: string): TwilioErrorBody {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

/** RFC 2822 as Twilio writes it: `Thu, 30 Jul 2015 20:12:31 +0000`. */
export function rfc2822(date: Date | null): string | null {
  return date === null ? null : date.toUTCString().replace('GMT', '+0000');
}

export function messageJson(message: SimMessage): Record<string, unknown> {
  const uri = `/${API_VERSION}/Accounts/${message.accountSid}/Messages/${message.sid}.json`;
  return {
    account_sid: message.accountSid,
    api_version: API_VERSION,
    body: message.body ?? '',
    date_created: rfc2822(message.createdAt),
    date_sent: rfc2822(message.sentAt),
    date_updated: rfc2822(message.updatedAt),
    direction: 'outbound-api',
    error_code: message.errorCode,
    error_message: message.errorMessage,
    from: message.from,
    messaging_service_sid: message.messagingServiceSid,
    num_media: String(message.mediaUrls.length),
    num_segments: '1',
    price: null,
    price_unit: 'USD',
    sid: message.sid,
    status: message.status,
    subresource_uris: { media: uri.replace('.json', '/Media.json') },
    to: message.to,
    uri,
  };
}

/** The fields Twilio posts to a StatusCallback for a WhatsApp message. */
export function statusCallbackParams(
  message: SimMessage,
  status: string,
  errorCode: number | null,
): Record<string, string> {
  const params: Record<string, string> = {
    AccountSid: message.accountSid,
    ApiVersion: API_VERSION,
    From: message.from,
    MessageSid: message.sid,
    MessageStatus: status,
    SmsSid: message.sid,
    SmsStatus: status,
    To: message.to,
  };
  if (message.to.startsWith('whatsapp:')) {
    params.ChannelPrefix = 'whatsapp';
    params.ChannelToAddress = message.to.slice('whatsapp:'.length);
    params.ChannelInstallSid = `XE${message.accountSid.slice(2)}`;
    if (status === 'sent') params.StructuredMessage = 'false';
  }
  if (message.messagingServiceSid) params.MessagingServiceSid = message.messagingServiceSid;
  if (errorCode !== null) {
    params.ErrorCode = String(errorCode);
    params.ErrorMessage = ERROR_MESSAGES[errorCode] ?? 'Message delivery failed.';
  }
  return params;
}
