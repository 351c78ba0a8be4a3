/**
 * A phone number for logs: channel prefix, country-code-ish head and the last two digits
 * (`whatsapp:+14*******00`), enough to tell numbers apart in an incident, not to contact anyone.
 */
export function maskPhone(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const match = /^((?:[a-z]+:)?\+?)(\d+)$/.exec(value.trim());
  if (!match) return '***';
  const [, prefix, digits] = match;
  if (digits.length <= 4) return `${prefix}${'*'.repeat(digits.length)}`;
  return `${prefix}${digits.slice(0, 2)}${'*'.repeat(digits.length - 4)}${digits.slice(-2)}`;
}

// A run of at least 7 digits, optionally after `+`, with spaces, dashes or parentheses between
// them. The look-arounds leave alone digits that are part of a word (SIDs such as SM0123…),
// a uuid, a decimal, a version or a clock time; ISO dates and all-digit uuids are kept too.
const PHONE_IN_TEXT = /(?<![\w+.-])\+?\d(?:[ ()-]*\d){6,}(?![\w-]|[.:]\d)/g;
const NOT_A_PHONE = /^(?:\d{4}-\d{2}-\d{2}|\d{8}(?:-\d{4}){3}-\d{12})$/;

/**
 * Masks every phone-number-like run in a free text (Twilio's "The 'To' number +15551234567 is
 * not a valid phone number"), in maskPhone's form: `+15*******67`. For texts that are logged
 * or stored where a person's number must not survive.
 */
export function maskPhoneNumbersInText(text: string): string;
export function maskPhoneNumbersInText(text: string | null | undefined): string | null;
export function maskPhoneNumbersInText(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  return text.replace(PHONE_IN_TEXT, (run) => {
    if (NOT_A_PHONE.test(run)) return run;
    const digits = run.replace(/\D/g, '');
    return maskPhone(`${run.startsWith('+') ? '+' : ''}${digits}`) ?? '***';
  });
}
