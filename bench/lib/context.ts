import type { Client } from 'pg';
import type { BenchProcess } from './processes';

/** The ports the run's processes use, all picked up front (each process needs the others'). */
export interface Ports {
  simulator: number;
  baseline: number;
  /** The api's port: the one the simulator delivers callbacks to (the balancer's in scaleOut). */
  api: number;
  worker: number;
}

/** What every scenario after the baseline gets from the setup. */
export interface BenchContext {
  /** A connection to the run's own database, for seeding and counting. */
  db: Client;
  simulator: BenchProcess;
  ports: Ports;
  /** The `sender` user's JWT. */
  token: string;
  /** The baseline's requests per second, which every ratioToBaseline divides by. */
  baselineRps: number;
}
