import { existsSync } from 'node:fs';
import type { Env } from './env-reader';

/**
 * The one place that reads process.env (a lint rule bans it elsewhere). A `.env` in the working
 * directory is loaded when present, except under NODE_ENV=test; the real environment wins over
 * it. None is needed: every variable has a development default.
 */
export function processEnv(): Env {
  if (process.env.NODE_ENV !== 'test' && existsSync('.env')) process.loadEnvFile('.env');
  return process.env;
}
