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

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * An ISO-8601 date (`2025-01-31`, meaning 00:00 UTC) or date-time with an offset
 * (`2025-01-31T18:00Z`, `…+02:00`); an offset is required so the moment does not depend on the
 * machine's time zone. Parsed by hand because `Date.parse` rolls `02-30` over into March.
 */
export function parseIsoDate(raw: string): Date {
  const invalid = new ConfigValueError(
    'expected an ISO-8601 date (2025-01-31) or date-time with offset (2025-01-31T18:00:00Z)',
  );
  const match = ISO_8601.exec(raw.trim());
  if (match === null) throw invalid;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '', zone = 'Z'] =
    match;
  const [offsetHours, offsetMinutes] = zone === 'Z' ? [0, 0] : zone.slice(1).split(':').map(Number);
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) throw invalid;
  if (offsetHours > 23 || offsetMinutes > 59) throw invalid;
  const local = new Date(
    Date.UTC(
      Number(year),
      Number(month) - 1,
      Number(day),
      Number(hour),
      Number(minute),
      Number(second),
      Math.floor(Number(`0${fraction}`) * 1000),
    ),
  );
  // Date.UTC rolls impossible days over (and maps years 0–99 to 19xx): a real date round-trips.
  const roundTrips =
    local.getUTCFullYear() === Number(year) &&
    local.getUTCMonth() === Number(month) - 1 &&
    local.getUTCDate() === Number(day);
  if (!roundTrips) throw invalid;
  const offsetMs = (zone.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return new Date(local.getTime() - offsetMs);
}

/** METRICS_AUTH: `user:password`, or `off`. */
export function parseMetricsAuth(raw: string): { user: string; password: string } | 'off' {
  if (raw.trim().toLowerCase() === 'off') return 'off';
  const colon = raw.indexOf(':');
  if (colon <= 0 || colon === raw.length - 1) {
    throw new ConfigValueError('expected user:password, or off to leave /metrics open');
  }
  return { user: raw.slice(0, colon), password: raw.slice(colon + 1) };
}

/** A URL without its trailing slashes. */
export function stripSlash(value: string): string {
  return value.replace(/\/+$/, '');
}

/**
 * A comma-separated list of durations in seconds (decimals allowed, so tests can run a schedule
 * in milliseconds), as milliseconds: `0,5,300` → [0, 5000, 300000].
 */
export function parseSecondsList(raw: string, maxItems: number, maxSeconds: number): number[] {
  const items = raw.split(',').map((item) => item.trim());
  const expected = `expected 1–${maxItems} comma-separated seconds between 0 and ${maxSeconds}`;
  if (items.length === 0 || items.length > maxItems) throw new ConfigValueError(expected);
  return items.map((item) => {
    if (!/^\d{1,9}(\.\d{1,3})?$/.test(item)) throw new ConfigValueError(expected);
    const seconds = Number(item);
    if (seconds > maxSeconds) throw new ConfigValueError(expected);
    return Math.round(seconds * 1000);
  });
}
