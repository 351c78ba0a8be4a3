import { encodeForm } from '../../src/simulator/form';
import { twilioSignature, type FormParams } from '../../src/simulator/twilio-signature';
import type { TestApp } from './test-app';

/**
 * A webhook POST signed as Twilio signs it: over the app's PUBLIC_BASE_URL + path and every
 * form field, with its TWILIO_AUTH_TOKEN unless another token is given.
 */
export function signedWebhook(
  test: Pick<TestApp, 'app' | 'config'>,
  path: string,
  params: FormParams,
  options: { authToken?: string; headers?: Record<string, string>; ip?: string } = {},
) {
  const signature = twilioSignature(
    options.authToken ?? test.config.twilio.authToken,
    `${test.config.publicBaseUrl}${path}`,
    params,
  );
  return test.app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      ...options.headers,
    },
    payload: encodeForm(params),
    ...(options.ip !== undefined ? { remoteAddress: options.ip } : {}),
  });
}
