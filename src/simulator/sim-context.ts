import type { SimConfig } from './sim-config';
import type { SimStore } from './sim-store';

export interface SimulatorOptions {
  accountSid: string;
  authToken: string;
  /** Origin that callbacks and inbound webhooks really go to (SIMULATOR_DELIVER_TO). */
  deliverTo: string;
  /** The app's public URL, for the inbound webhook URL "configured in the console". */
  publicBaseUrl: string;
  /** The business number inbound messages are addressed to by default. */
  defaultTo: string;
  /** Knobs at start and after a reset (env SIM_* or defaults). */
  config: SimConfig;
}

export interface SimContext {
  options: SimulatorOptions;
  store: SimStore;
  config: SimConfig;
  random: () => number;
  log: (entry: Record<string, unknown>, message: string) => void;
}
