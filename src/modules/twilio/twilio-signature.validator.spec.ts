import {
  SIGNATURE_VECTORS,
  STATUS_VECTOR,
  VECTOR_BASE,
  VECTOR_DEFAULT_PARAMS,
  VECTOR_TOKEN,
} from '../../../test/fixtures/twilio-signature-vectors';
import { TwilioSignatureValidator } from './twilio-signature.validator';

// twilio-node's official vectors (test/fixtures/twilio-signature-vectors.ts), through our validator.
describe('TwilioSignatureValidator', () => {
  const validator = new TwilioSignatureValidator(VECTOR_TOKEN, undefined);

  it.each(SIGNATURE_VECTORS.map((vector) => [vector.name, vector]))(
    'should accept vector %s',
    (_name, vector) => {
      expect(validator.check(vector.signature, vector.validatedUrl, vector.params)).toBe('valid');
    },
  );

  it('should refuse a wrong signature (A2)', () => {
    expect(validator.check('WRONG_SIGNATURE', VECTOR_BASE, VECTOR_DEFAULT_PARAMS)).toBe('invalid');
  });

  it('should accept the WhatsApp status vector and refuse it with another status or the fragment signed', () => {
    const { url, params, signature, signatureWithFragment } = STATUS_VECTOR;
    expect(validator.check(signature, url, params)).toBe('valid');
    expect(validator.check(signature, url, { ...params, MessageStatus: 'read' })).toBe('invalid');
    expect(validator.check(signatureWithFragment, url, params)).toBe('invalid');
  });

  it('should report a missing signature apart from a wrong one', () => {
    expect(validator.check(undefined, STATUS_VECTOR.url, STATUS_VECTOR.params)).toBe('missing');
    expect(validator.check('  ', STATUS_VECTOR.url, STATUS_VECTOR.params)).toBe('missing');
  });

  it('should accept the previous token during a rotation, and say so', () => {
    const { url, params, signature } = STATUS_VECTOR;
    const rotating = new TwilioSignatureValidator('the-new-token-000000', VECTOR_TOKEN);
    expect(rotating.check(signature, url, params)).toBe('valid-previous-token');
    const withoutPrevious = new TwilioSignatureValidator('the-new-token-000000', undefined);
    expect(withoutPrevious.check(signature, url, params)).toBe('invalid');
  });

  it('should check once per token over the URL as given (the flood path)', () => {
    const { url, params, signature } = STATUS_VECTOR;
    expect(validator.checkOnce(signature, url, params)).toBe(true);
    expect(validator.checkOnce(signature, url, { ...params, MessageStatus: 'read' })).toBe(false);
    expect(validator.checkOnce(undefined, url, params)).toBe(false);
    expect(validator.checkOnce('short', url, params)).toBe(false);
    const rotating = new TwilioSignatureValidator('the-new-token-000000', VECTOR_TOKEN);
    expect(rotating.checkOnce(signature, url, params)).toBe(true);
    const rotated = new TwilioSignatureValidator('the-new-token-000000', undefined);
    expect(rotated.checkOnce(signature, url, params)).toBe(false);
  });
});
