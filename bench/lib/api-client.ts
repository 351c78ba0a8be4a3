// Requests to the app as a client behind the TLS-terminating proxy sends them: logins, the
// sender's token, and POST /send bodies each to a recipient of its own.
import type autocannon from 'autocannon';
import { CONTENT_SID, secrets } from './settings';

// Every request to the app comes "through the TLS-terminating proxy": production answers plain
// http with 403 HTTPS_REQUIRED.
export const PROXY_HEADERS = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.10' };

async function api<T>(port: number, method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: {
      ...PROXY_HEADERS,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Creates the `sender` user through the API (admin login, POST /users) and logs it in. */
export async function senderToken(port: number): Promise<string> {
  const admin = await api<{ accessToken: string }>(port, 'POST', '/api/v1/auth/login', {
    email: secrets.adminEmail,
    password: secrets.adminPassword,
  });
  await api(
    port,
    'POST',
    '/api/v1/users',
    { email: secrets.senderEmail, password: secrets.senderPassword, role: 'sender' },
    admin.accessToken,
  );
  const sender = await api<{ accessToken: string }>(port, 'POST', '/api/v1/auth/login', {
    email: secrets.senderEmail,
    password: secrets.senderPassword,
  });
  return sender.accessToken;
}

/** The admin's token (the app's first admin, from ADMIN_EMAIL/ADMIN_PASSWORD). */
export async function adminToken(port: number): Promise<string> {
  const admin = await api<{ accessToken: string }>(port, 'POST', '/api/v1/auth/login', {
    email: secrets.adminEmail,
    password: secrets.adminPassword,
  });
  return admin.accessToken;
}

/** Creates an events subscription; its id. */
export async function createSubscription(
  port: number,
  token: string,
  body: { url: string; events: string[] },
): Promise<string> {
  return (await api<{ id: string }>(port, 'POST', '/api/v1/subscriptions', body, token)).id;
}

/** A POST /send body to a recipient no other request of the run uses. */
function sendBody(index: number, reference: string): string {
  return JSON.stringify({
    to: `+1628${String(index).padStart(7, '0')}`,
    contentSid: CONTENT_SID,
    contentVariables: { 1: 'bench' },
    reference,
  });
}

/** POST /send requests, each to the next recipient `nextIndex` gives. */
export function sendRequests(
  token: string,
  reference: string,
  nextIndex: () => number,
): autocannon.Request[] {
  return [
    {
      method: 'POST',
      path: '/api/v1/whatsapp/send',
      setupRequest: (request) => ({
        ...request,
        headers: sendHeaders(token),
        body: sendBody(nextIndex(), reference),
      }),
    },
  ];
}

function sendHeaders(token: string): Record<string, string> {
  return {
    ...PROXY_HEADERS,
    authorization: `Bearer ${token}`,
    'content-type': 'application/json',
  };
}
