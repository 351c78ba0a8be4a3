import { validateRequest } from 'twilio';

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
}
