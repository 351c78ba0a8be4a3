/**
 * The URL Twilio signed: the configured public base URL plus the path and query exactly as the
 * request carried them. Never built from the Host header or the listening scheme and port,
 * which describe the last hop (the proxy), not what Twilio called.
 */
export function signedUrlFor(publicBaseUrl: string, requestUrl: string): string {
  const base = publicBaseUrl.replace(/\/+$/, '');
  const path = requestUrl.startsWith('/') ? requestUrl : `/${requestUrl}`;
  return `${base}${path}`;
}
