import { timingSafeEqual } from 'node:crypto';
import { getExpectedTwilioSignature, validateRequest } from 'twilio';

export type SignatureParams = Record<string, string | string[]>;

export type SignatureCheck = 'valid' | 'valid-previous-token' | 'missing' | 'invalid';

/**
 * X-Twilio-Signature through twilio-node's own validateRequest, with the current auth token and,
 * during a rotation, the previous one. The URL must be the public one Twilio called.
 */
export class TwilioSignatureValidator {
  constructor(
    private readonly authToken: string,
    private readonly previousAuthToken: string | undefined,
  ) {}

  check(signature: string | undefined, url: string, params: SignatureParams): SignatureCheck {
    if (signature === undefined || signature.trim() === '') return 'missing';
    if (validateRequest(this.authToken, signature, url, params)) return 'valid';
    if (this.previousAuthToken && validateRequest(this.previousAuthToken, signature, url, params)) {
      return 'valid-previous-token';
    }
    return 'invalid';
  }

  /**
   * One HMAC per token (the current one, and the previous one during a rotation) over the URL
   * exactly as given. For a client already flooding us with bad signatures, so each of its
   * requests costs one or two HMACs instead of up to twelve (validateRequest tries six URL
   * variants per token); Twilio signs that URL as is.
   */
  checkOnce(signature: string | undefined, url: string, params: SignatureParams): boolean {
    if (signature === undefined || signature === '') return false;
    const given = Buffer.from(signature);
    // While a rotation is under way the previous token is one more HMAC, never more.
    return [this.authToken, this.previousAuthToken].some((token) => {
      if (token === undefined) return false;
      const expected = Buffer.from(getExpectedTwilioSignature(token, url, params));
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  }
}
