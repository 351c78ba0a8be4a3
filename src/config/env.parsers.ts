// Small, pure parsers for environment values. Each returns the parsed value or throws a
// ConfigValueError whose message says what is expected (never the value itself: it may be a secret).

export class ConfigValueError extends Error {}

export function parseInteger(raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw.trim())) {
    throw new ConfigValueError(`expected an integer between ${min} and ${max}`);
  }
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigValueError(`expected an integer between ${min} and ${max}`);
  }
  return value;
}

const TRUE_WORDS = new Set(['on', 'true', '1', 'yes']);
const FALSE_WORDS = new Set(['off', 'false', '0', 'no']);

export function parseSwitch(raw: string): boolean {
  const word = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new ConfigValueError('expected on or off');
}

export function parseChoice<T extends string>(raw: string, choices: readonly T[]): T {
  const word = raw.trim().toLowerCase();
  const match = choices.find((choice) => choice === word);
  if (match === undefined) {
    throw new ConfigValueError(`expected one of ${choices.join(', ')}`);
  }
  return match;
}

export function parseUrl(raw: string, protocols: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigValueError(`expected a URL (${protocols.join(' or ')})`);
  }
  if (!protocols.includes(url.protocol.replace(/:$/, ''))) {
    throw new ConfigValueError(`expected a URL (${protocols.join(' or ')})`);
  }
  return url;
}

export function parsePattern(raw: string, pattern: RegExp, expected: string): string {
  const value = raw.trim();
  if (!pattern.test(value)) {
    throw new ConfigValueError(`expected ${expected}`);
  }
  return value;
}

export function parseMinLength(raw: string, min: number): string {
  if (raw.length < min) {
    throw new ConfigValueError(`expected at least ${min} characters`);
  }
  return raw;
}

/** Fastify's trustProxy: a boolean, a hop count, or a comma-separated list of addresses/CIDRs. */
export type TrustProxy = boolean | number | string[];

export function parseTrustProxy(raw: string): TrustProxy {
  const value = raw.trim();
  const word = value.toLowerCase();
  if (TRUE_WORDS.has(word) && word !== '1') return true;
  if (FALSE_WORDS.has(word) && word !== '0') return false;
  if (/^\d+$/.test(value)) return parseInteger(value, 0, 100);
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  const looksLikeAddress = /^[0-9a-fA-F.:]+(\/\d{1,3})?$/;
  if (entries.length === 0 || !entries.every((entry) => looksLikeAddress.test(entry))) {
    throw new ConfigValueError(
      'expected true, false, a hop count, or a comma-separated list of proxy addresses/CIDRs',
    );
  }
  return entries;
}
