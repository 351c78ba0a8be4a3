import { normalizeWhatsappNumber } from './phone';

describe('normalizeWhatsappNumber', () => {
  it.each([
    ['+14155550100', '+14155550100'],
    ['whatsapp:+14155550100', '+14155550100'],
    [' +447911123456 ', '+447911123456'],
    ['+5511987654321', '+5511987654321'],
    ['+919876543210', '+919876543210'],
    ['+15005550001', '+15005550001'],
    // A possible but not (yet) valid number: accepted, as real new ranges are.
    ['+14150000000', '+14150000000'],
  ])('should accept %s as whatsapp:%s', (input, e164) => {
    expect(normalizeWhatsappNumber(input)).toEqual({ ok: true, e164, address: `whatsapp:${e164}` });
  });

  it.each([
    ['4155550100', /E\.164/],
    ['+0123456789', /E\.164/],
    ['+1 415 555 0100', /E\.164/],
    ['whatsapp:4155550100', /E\.164/],
    ['sms:+14155550100', /E\.164/],
    ['+1415555010099999', /E\.164/],
    ['+1415', /possible/],
    ['+44791112', /possible/],
    ['', /E\.164/],
  ])('should refuse %p', (input, reason) => {
    const result = normalizeWhatsappNumber(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
