import { createHmac } from 'node:crypto';

export type FormParams = Record<string, string | string[]>;

/**
 * X-Twilio-Signature as Twilio computes it: the URL as given (its `#…` fragment removed; the
 * connection overrides are not signed), then every POST field sorted by name, name and value
 * appended with no separator; HMAC-SHA1 with the auth token, base64. Written independently of
 * twilio-node, so a bug shared with the app's validator cannot cancel out.
 */
export function twilioSignature(authToken: string, url: string, params: FormParams): string {
  return createHmac('sha1', authToken).update(signedString(url, params), 'utf8').digest('base64');
}

export function signedString(url: string, params: FormParams): string {
  const hash = url.indexOf('#');
  let text = hash === -1 ? url : url.slice(0, hash);
  // Code-unit order, case-sensitive (Unix-style sort), as Twilio documents.
  const names = Object.keys(params).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const value = params[name];
    const values = Array.isArray(value) ? [...new Set(value)].sort() : [value];
    for (const item of values) text += name + item;
  }
  return text;
}
