import type { Env } from '../config/env-reader';

/** The knobs of `/__sim/config` (README, "Twilio: the simulator and the real thing"); names and defaults are a contract. */
export interface SimConfig {
  callbackDelayMs: { min: number; max: number };
  read: boolean;
  failRate: number;
  failCode: number;
  dropRate: number;
  duplicateRate: number;
  reorderRate: number;
  fiveXxAfterAcceptRate: number;
  burst429: { every: number; retryAfterS: number };
  /** Every REST answer (create, fetch, list) waits this long: a slow Twilio API. */
  apiDelayMs: number;
  /** Connections at once toward the app for callbacks and inbound webhooks. */
  callbackConcurrency: number;
  /**
   * Seconds after which a message whose life is over leaves the REST resource (fetch 404) and
   * only its truth stays (`/__sim/messages`): a long run's memory stays small. 0: never.
   */
  retainS: number;
  /**
   * Seconds a retired message's truth is kept after it left the REST resource; then it is
   * forgotten, with the create calls of its mid, so a long run's memory levels off. 0: never.
   * Only with `retainS` on.
   */
  truthRetainS: number;
}

export const DEFAULT_SIM_CONFIG: SimConfig = {
  callbackDelayMs: { min: 100, max: 500 },
  read: true,
  failRate: 0,
  failCode: 30008,
  dropRate: 0,
  duplicateRate: 0,
  reorderRate: 0,
  fiveXxAfterAcceptRate: 0,
  burst429: { every: 0, retryAfterS: 1 },
  apiDelayMs: 0,
  callbackConcurrency: 1_024,
  retainS: 3_600,
  truthRetainS: 7_200,
};

export class SimConfigError extends Error {}

type Check = (value: unknown) => boolean;
const rate: Check = (v) => typeof v === 'number' && v >= 0 && v <= 1;
const nonNegativeInt: Check = (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const RULES: Record<string, [Check, string]> = {
  'callbackDelayMs.min': [nonNegativeInt, 'a whole number of milliseconds ≥ 0'],
  'callbackDelayMs.max': [nonNegativeInt, 'a whole number of milliseconds ≥ 0'],
  read: [(v) => typeof v === 'boolean', 'true or false'],
  failRate: [rate, 'a rate between 0 and 1'],
  failCode: [(v) => nonNegativeInt(v) && (v as number) > 0, 'a Twilio error code'],
  dropRate: [rate, 'a rate between 0 and 1'],
  duplicateRate: [rate, 'a rate between 0 and 1'],
  reorderRate: [rate, 'a rate between 0 and 1'],
  fiveXxAfterAcceptRate: [rate, 'a rate between 0 and 1'],
  'burst429.every': [nonNegativeInt, 'a whole number ≥ 0 (0 = off)'],
  'burst429.retryAfterS': [nonNegativeInt, 'whole seconds ≥ 0'],
  apiDelayMs: [
    (v) => nonNegativeInt(v) && (v as number) <= 60_000,
    'a whole number of milliseconds from 0 to 60000',
  ],
  callbackConcurrency: [
    (v) => nonNegativeInt(v) && (v as number) >= 1 && (v as number) <= 100_000,
    'a whole number of connections from 1 to 100000',
  ],
  retainS: [nonNegativeInt, 'whole seconds ≥ 0 (0 = keep every message)'],
  truthRetainS: [nonNegativeInt, 'whole seconds ≥ 0 (0 = keep the truth of every message)'],
};

/** A partial merge (POST /__sim/config): unknown or invalid fields are refused, naming them. */
export function mergeSimConfig(current: SimConfig, patch: unknown): SimConfig {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new SimConfigError('expected a JSON object');
  }
  const next = structuredClone(current) as unknown as Record<string, unknown>;
  const problems: string[] = [];
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    const nested = next[key];
    if (
      typeof nested === 'object' &&
      nested !== null &&
      typeof value === 'object' &&
      value !== null
    ) {
      for (const [inner, innerValue] of Object.entries(value as Record<string, unknown>)) {
        applyField(
          nested as Record<string, unknown>,
          `${key}.${inner}`,
          inner,
          innerValue,
          problems,
        );
      }
    } else {
      applyField(next, key, key, value, problems);
    }
  }
  const merged = next as unknown as SimConfig;
  if (merged.callbackDelayMs.min > merged.callbackDelayMs.max) {
    problems.push('callbackDelayMs: min must not exceed max');
  }
  if (problems.length > 0) throw new SimConfigError(problems.join('; '));
  return merged;
}

function applyField(
  target: Record<string, unknown>,
  path: string,
  key: string,
  value: unknown,
  problems: string[],
): void {
  const rule = RULES[path];
  if (!rule) {
    problems.push(`${path}: unknown setting`);
    return;
  }
  if (!rule[0](value)) {
    problems.push(`${path}: expected ${rule[1]}`);
    return;
  }
  target[key] = value;
}

/** `SIM_*` env mirrors each knob: SIM_FAIL_RATE, SIM_CALLBACK_DELAY_MS_MIN, SIM_BURST429_EVERY … */
export function simConfigFromEnv(env: Env): SimConfig {
  const patch: Record<string, unknown> = {};
  for (const path of Object.keys(RULES)) {
    const name = `SIM_${path
      .replace('.', '_')
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .toUpperCase()}`;
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const value =
      raw === 'true' || raw === 'on'
        ? true
        : raw === 'false' || raw === 'off'
          ? false
          : Number(raw);
    const [outer, inner] = path.split('.');
    if (inner === undefined) patch[outer] = value;
    else patch[outer] = { ...(patch[outer] as object | undefined), [inner]: value };
  }
  return mergeSimConfig(DEFAULT_SIM_CONFIG, patch);
}

/** The env names, for docs and tests. */
export function simEnvNames(): string[] {
  return Object.keys(RULES).map(
    (path) =>
      `SIM_${path
        .replace('.', '_')
        .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
        .toUpperCase()}`,
  );
}
