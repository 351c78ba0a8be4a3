import type { InboundMessage } from '../delivery/delivery.types';

export type FormFields = Record<string, string | string[] | undefined>;

const OPT_OUT = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);
const OPT_IN = new Set(['START', 'UNSTOP']);
const MAX_MEDIA = 10;

export function field(fields: FormFields, name: string): string | undefined {
  const value = fields[name];
  return Array.isArray(value) ? value[0] : value;
}

/** STOP-style keywords opt out, START-style opt back in (the whole body, any case). */
export function optOutKeyword(body: string | null): boolean | undefined {
  const word = (body ?? '').trim().toUpperCase();
  if (OPT_OUT.has(word)) return true;
  if (OPT_IN.has(word)) return false;
  return undefined;
}

/** Twilio's inbound WhatsApp fields → what we store. Pure; null when a required field is missing. */
export function parseInbound(
  fields: FormFields,
  idempotencyToken: string | null,
): InboundMessage | null {
  const sid =
    field(fields, 'MessageSid') ?? field(fields, 'SmsMessageSid') ?? field(fields, 'SmsSid');
  const from = field(fields, 'From');
  const to = field(fields, 'To');
  if (!sid || !from || !to) return null;
  const body = field(fields, 'Body') ?? null;
  const numMedia = Math.min(Math.max(Number(field(fields, 'NumMedia') ?? 0) || 0, 0), MAX_MEDIA);
  const mediaUrls: string[] = [];
  const mediaContentTypes: string[] = [];
  for (let index = 0; index < numMedia; index += 1) {
    const url = field(fields, `MediaUrl${index}`);
    if (url === undefined) continue;
    mediaUrls.push(url);
    mediaContentTypes.push(field(fields, `MediaContentType${index}`) ?? 'application/octet-stream');
  }
  const profileName = field(fields, 'ProfileName') ?? null;
  const waId = field(fields, 'WaId') ?? null;
  const extras = Object.fromEntries(
    (['ButtonPayload', 'ButtonText', 'MessageType', 'OriginalRepliedMessageSid'] as const)
      .map((name) => [name.charAt(0).toLowerCase() + name.slice(1), field(fields, name)] as const)
      .filter(([, value]) => value !== undefined),
  );
  return {
    twilioSid: sid,
    from,
    to,
    body,
    mediaUrls,
    metadata: { profileName, waId, mediaContentTypes, ...extras },
    phone: from.replace(/^whatsapp:/, ''),
    waId,
    profileName,
    optOut: optOutKeyword(body),
    payload: { ...fields },
    idempotencyToken,
  };
}
