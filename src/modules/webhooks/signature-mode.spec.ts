import { effectiveSignatureMode } from './signature-mode';

const NOW = new Date('2025-03-10T12:00:00Z');
const at = (iso: string): Date => new Date(iso);

describe('effectiveSignatureMode', () => {
  it.each([
    ['enforce', undefined, 'enforce'],
    ['enforce', at('2025-03-11T00:00:00Z'), 'enforce'],
    ['report', undefined, 'report'],
    ['report', at('2025-03-10T12:00:00.001Z'), 'report'],
    ['report', at('2025-03-17T12:00:00Z'), 'report'],
    ['report', at('2025-03-10T12:00:00Z'), 'enforce'],
    ['report', at('2025-03-10T11:59:59.999Z'), 'enforce'],
    ['report', at('2024-12-31T00:00:00Z'), 'enforce'],
  ] as const)('mode %s until %s → %s', (signatureMode, signatureReportUntil, expected) => {
    expect(effectiveSignatureMode({ signatureMode, signatureReportUntil }, NOW)).toBe(expected);
  });
});
