import type { SchemaObject } from '@nestjs/swagger';
import { EMPTY_TWIML } from '../twiml';

// What Twilio posts to the two webhooks (application/x-www-form-urlencoded), as the code reads
// it (inbound-fields.ts, webhooks.service.ts). Twilio sends more fields (AccountSid, ApiVersion…):
// all are covered by the signature and kept in the raw payload, none is required.

const MAX_MEDIA = 10;
const text = (description: string, example?: string): SchemaObject => ({
  type: 'string',
  description,
  ...(example === undefined ? {} : { example }),
});
const OTHER_FIELDS: SchemaObject = {
  type: 'string',
  description: "Any other of Twilio's fields: signed, stored in the raw payload.",
};
const SID = 'SM0123456789abcdef0123456789abcdef';

/** MediaUrl<n> and MediaContentType<n>, n < NumMedia: the first ten are read. */
function mediaFields(): Record<string, SchemaObject> {
  const fields: Record<string, SchemaObject> = {};
  for (let index = 0; index < MAX_MEDIA; index += 1) {
    fields[`MediaUrl${index}`] = text(`URL of media ${index}.`);
    fields[`MediaContentType${index}`] = text(`Content type of media ${index}.`);
  }
  return fields;
}

export const INBOUND_MESSAGE_FORM: SchemaObject = {
  type: 'object',
  description:
    'An inbound WhatsApp message. Required: `MessageSid` (or `SmsMessageSid`/`SmsSid`), `From`, `To`; else 400 BAD_REQUEST.',
  required: ['From', 'To'],
  properties: {
    MessageSid: text("Twilio's Message SID (required unless SmsMessageSid or SmsSid).", SID),
    SmsMessageSid: text('Fallback for MessageSid.'),
    SmsSid: text('Fallback for MessageSid.'),
    From: text("The sender's WhatsApp address.", 'whatsapp:+14155550100'),
    To: text('Our WhatsApp address.', 'whatsapp:+14155550199'),
    Body: text('The text; exactly STOP, START… (any case) opts the contact out or in.', 'Hello'),
    NumMedia: text(`Number of media (the first ${MAX_MEDIA} are read).`, '0'),
    ...mediaFields(),
    ProfileName: text("The sender's WhatsApp profile name.", 'Ada'),
    WaId: text("The sender's WhatsApp id.", '14155550100'),
    ButtonPayload: text('Payload of a quick-reply button.'),
    ButtonText: text('Text of a quick-reply button.'),
    MessageType: text("Twilio's message type (text, image, button…).", 'text'),
    OriginalRepliedMessageSid: text('The message this one replies to.'),
  },
  additionalProperties: OTHER_FIELDS,
};

export const STATUS_CALLBACK_FORM: SchemaObject = {
  type: 'object',
  description:
    'A status callback. Required: `MessageSid` (or `SmsSid`) and `MessageStatus` (or `SmsStatus`); else 400 BAD_REQUEST.',
  properties: {
    MessageSid: text("Twilio's Message SID (required unless SmsSid).", SID),
    SmsSid: text('Fallback for MessageSid.'),
    MessageStatus: text('The status reported (required unless SmsStatus).', 'delivered'),
    SmsStatus: text('Fallback for MessageStatus.'),
    ErrorCode: text("Twilio's error code, on failures.", '63016'),
    ErrorMessage: text('Its text.'),
  },
  additionalProperties: OTHER_FIELDS,
};

/** The 200 of both webhooks: empty TwiML, "received, no reply". */
export const EMPTY_TWIML_CONTENT = {
  'text/xml': { schema: { type: 'string', example: EMPTY_TWIML } satisfies SchemaObject },
};
