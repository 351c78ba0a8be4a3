import { maskPhone, maskPhoneNumbersInText } from './mask';

describe('maskPhone', () => {
  it.each([
    ['whatsapp:+14155550100', 'whatsapp:+14*******00'],
    ['+447911123456', '+44********56'],
    ['1234', '****'],
    ['not a phone', '***'],
    [null, null],
    [undefined, null],
  ])('should mask %p as %p', (input, output) => {
    expect(maskPhone(input)).toBe(output);
  });

  it('should never keep more than four digits of a number', () => {
    const masked = maskPhone('whatsapp:+5511987654321') ?? '';
    expect(masked.replace(/\D/g, '')).toHaveLength(4);
  });
});

describe('maskPhoneNumbersInText', () => {
  it.each([
    [
      "The 'To' number 5551234567 is not a valid phone number.",
      "The 'To' number 55******67 is not a valid phone number.",
    ],
    [
      "The 'To' number +15551234567 is not a valid phone number.",
      "The 'To' number +15*******67 is not a valid phone number.",
    ],
    [
      'Channel address whatsapp:+447911123456 not found',
      'Channel address whatsapp:+44********56 not found',
    ],
    ['call +1 (415) 555-0100 now', 'call +14*******00 now'],
    ['call (415) 555-0100', 'call (41******00'],
    ['numbers 5551234567, +447911123456', 'numbers 55******67, +44********56'],
    ['short 1234567', 'short 12***67'],
    // Not phone numbers: left as they are.
    ['six digits 123456 stay', 'six digits 123456 stay'],
    ['Twilio error 21211', 'Twilio error 21211'],
    ['SID SM0123456789abcdef0123456789abcdef', 'SID SM0123456789abcdef0123456789abcdef'],
    ['id 12345678-1234-4234-8234-123456789012', 'id 12345678-1234-4234-8234-123456789012'],
    ['id 0f1e2d3c-1234-4234-8234-123456789012', 'id 0f1e2d3c-1234-4234-8234-123456789012'],
    ['at 2026-11-27 10:00:00', 'at 2026-11-27 10:00:00'],
    ['pi is 3.14159265', 'pi is 3.14159265'],
    ['connect ECONNREFUSED 127.0.0.1:5432', 'connect ECONNREFUSED 127.0.0.1:5432'],
    ['', ''],
    [null, null],
    [undefined, null],
  ])('should turn %p into %p', (input, output) => {
    expect(maskPhoneNumbersInText(input)).toBe(output);
  });

  it('should never keep more than four digits of a number in a text', () => {
    const masked = maskPhoneNumbersInText('To: whatsapp:+5511987654321.');
    expect(masked.replace(/\D/g, '')).toHaveLength(4);
  });
});
