import { createHash, randomBytes } from 'node:crypto';

/** Recognisable in logs, configs and secret scanners. */
export const API_KEY_PREFIX = 'wak_';
const SHOWN_PREFIX_LENGTH = API_KEY_PREFIX.length + 8;

export interface NewApiKey {
  key: string;
  prefix: string;
  hash: string;
}

/** `wak_` + 32 random bytes (base64url). Only its sha256 is stored: the key has 256 bits of entropy. */
export function generateApiKey(): NewApiKey {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, SHOWN_PREFIX_LENGTH), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(API_KEY_PREFIX) && /^[A-Za-z0-9_-]{47}$/.test(value);
}
