import { ConfigValueError } from './env.parsers';

export interface ConfigProblem {
  name: string;
  expected: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads variables one by one and collects every problem instead of stopping at the first, so
 * a bad deployment is fixed in one round. Messages name the variable and what is expected;
 * values are never echoed (any of them may be a secret).
 */
export class EnvReader {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  }

  /**
   * A variable's value, parsed: the environment's, else `fallback`. With no fallback
   * (`undefined`) the variable must be set: a missing one is a problem ("is required").
   */
  value<T>(name: string, parse: (raw: string) => T, fallback: string | undefined): T {
    const value = this.optional(name, parse, fallback);
    if (value === undefined && !this.problems.some((problem) => problem.name === name)) {
      this.problems.push({ name, expected: `is required: ${describe(parse)}` });
    }
    return value as T;
  }

  optional<T>(name: string, parse: (raw: string) => T, fallback?: string): T | undefined {
    const raw = this.raw(name) ?? fallback;
    if (raw === undefined) return undefined;
    try {
      return parse(raw);
    } catch (error) {
      if (!(error instanceof ConfigValueError)) throw error;
      this.problems.push({ name, expected: error.message });
      return undefined;
    }
  }

  problem(name: string, expected: string): void {
    this.problems.push({ name, expected });
  }

  hasProblem(name: string): boolean {
    return this.problems.some((problem) => problem.name === name);
  }
}

// Runs the parser on an impossible value to learn what it expects, so "is required" lines say
// the same thing as "is invalid" lines.
function describe(parse: (raw: string) => unknown): string {
  try {
    parse('\u0000');
  } catch (error) {
    if (error instanceof ConfigValueError) return error.message;
  }
  return 'a value';
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((problem) => `${problem.name} ${problem.expected}`).join('\n'));
  }

  /** One line per bad variable, ready for stderr. */
  lines(): string[] {
    return this.problems.map(
      (problem) =>
        `config: ${problem.name} ${problem.expected.startsWith('is ') ? '' : 'is invalid: '}${problem.expected}`,
    );
  }
}
