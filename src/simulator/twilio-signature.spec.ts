import twilio from 'twilio';
import {
  SIGNATURE_VECTORS,
  STATUS_VECTOR,
  VECTOR_BASE,
  VECTOR_DEFAULT_PARAMS,
  VECTOR_TOKEN,
} from '../../test/fixtures/twilio-signature-vectors';
import { signedString, twilioSignature } from './twilio-signature';

// The simulator's signer is independent of twilio-node; each vector is also checked with
// twilio.validateRequest, so both agree with Twilio's published values.
describe('twilioSignature (simulator signer)', () => {
  it.each(SIGNATURE_VECTORS.map((vector) => [vector.name, vector]))(
    'should reproduce vector %s',
    (_name, vector) => {
      expect(twilioSignature(VECTOR_TOKEN, vector.signedUrl, vector.params)).toBe(vector.signature);
      expect(
        twilio.validateRequest(VECTOR_TOKEN, vector.signature, vector.signedUrl, vector.params),
      ).toBe(true);
    },
  );

  it('should sign a WhatsApp status callback (vector D status) and leave the fragment out', () => {
    const { url, params, signature } = STATUS_VECTOR;
    expect(twilioSignature(VECTOR_TOKEN, url, params)).toBe(signature);
    expect(twilioSignature(VECTOR_TOKEN, `${url}#rc=3&rp=all`, params)).toBe(signature);
    expect(twilioSignature(VECTOR_TOKEN, url, { ...params, MessageStatus: 'read' })).not.toBe(
      signature,
    );
  });

  it('should build the signed string as URL + sorted name/value pairs with no separators', () => {
    expect(signedString(VECTOR_BASE, VECTOR_DEFAULT_PARAMS)).toBe(
      `${VECTOR_BASE}CallSidCA1234567890ABCDECaller+14158675309Digits1234From+14158675309To+18005551212`,
    );
  });

  it('should sort names case-sensitively by code unit (upper case first)', () => {
    expect(signedString('u', { b: '1', B: '2', a: '3', A: '4' })).toBe('uA4B2a3b1');
  });
});
