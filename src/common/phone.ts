import { isPossiblePhoneNumber } from 'libphonenumber-js/max';

export const WHATSAPP_PREFIX = 'whatsapp:';
const E164_SYNTAX = /^\+[1-9]\d{1,14}$/;

export type PhoneCheck =
  { ok: true; e164: string; address: string } | { ok: false; reason: string };

/**
 * `+E164` or `whatsapp:+E164` → the WhatsApp address Twilio wants. Checks E.164 syntax and that
 * the number is *possible* (length for its country) — never "valid", which rejects real new
 * ranges before the metadata catches up.
 */
export function normalizeWhatsappNumber(input: string): PhoneCheck {
  const known = recent.get(input);
  if (known) return known;
  const check = checkNumber(input);
  // The send path checks each number twice (the DTO's validator, then the service), and
  // libphonenumber's country detection is the costliest step of a send: remember recent answers.
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value as string);
  recent.set(input, check);
  return check;
}

const RECENT_MAX = 1_000;
const recent = new Map<string, PhoneCheck>();

function checkNumber(input: string): PhoneCheck {
  const raw = input.trim();
  const e164 = raw.startsWith(WHATSAPP_PREFIX) ? raw.slice(WHATSAPP_PREFIX.length) : raw;
  if (!E164_SYNTAX.test(e164)) {
    return {
      ok: false,
      reason: 'to must be an E.164 number such as +14155550100 (optionally whatsapp:+…)',
    };
  }
  if (!isPossiblePhoneNumber(e164)) {
    return { ok: false, reason: 'to is not a possible phone number for its country code' };
  }
  return { ok: true, e164, address: `${WHATSAPP_PREFIX}${e164}` };
}
