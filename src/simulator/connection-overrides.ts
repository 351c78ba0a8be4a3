/**
 * Twilio's connection overrides, read from a webhook URL's fragment (`#rc=3&rp=5xx,rt,ct`).
 * Defaults are Twilio's: one retry, only when the TCP connection could not be made.
 */
export interface ConnectionOverrides {
  connectTimeoutMs: number;
  readTimeoutMs: number;
  totalTimeMs: number;
  retryCount: number;
  retryOn: ReadonlySet<RetryReason>;
}

export type RetryReason = '4xx' | '5xx' | 'ct' | 'rt';

const REASONS: readonly RetryReason[] = ['4xx', '5xx', 'ct', 'rt'];

export function parseConnectionOverrides(url: string): ConnectionOverrides {
  const hash = url.indexOf('#');
  const fragment = new URLSearchParams(hash === -1 ? '' : url.slice(hash + 1));
  const bounded = (name: string, min: number, max: number, fallback: number): number => {
    const value = Number(fragment.get(name));
    return fragment.has(name) && Number.isInteger(value)
      ? Math.min(max, Math.max(min, value))
      : fallback;
  };
  const policy = fragment.get('rp');
  const retryOn = new Set<RetryReason>();
  for (const item of (policy ?? 'ct').split(',').map((entry) => entry.trim())) {
    if (item === 'all') REASONS.forEach((reason) => retryOn.add(reason));
    else if ((REASONS as readonly string[]).includes(item)) retryOn.add(item as RetryReason);
  }
  return {
    connectTimeoutMs: bounded('ct', 100, 10_000, 5_000),
    readTimeoutMs: bounded('rt', 100, 15_000, 15_000),
    totalTimeMs: bounded('tt', 100, 15_000, 15_000),
    retryCount: bounded('rc', 0, 5, 1),
    retryOn,
  };
}

/** The URL without its fragment: what is signed, and what is requested. */
export function withoutFragment(url: string): string {
  const hash = url.indexOf('#');
  return hash === -1 ? url : url.slice(0, hash);
}
