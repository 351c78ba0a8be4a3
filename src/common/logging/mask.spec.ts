import { maskPhone } from './mask';

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
