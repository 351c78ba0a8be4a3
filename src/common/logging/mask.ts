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
