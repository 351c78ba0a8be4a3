import { DEFAULT_SIM_CONFIG, type SimConfig } from '../../src/simulator/sim-config';
import { createSimulator, type Simulator } from '../../src/simulator/simulator.server';

export const SIM_ACCOUNT_SID = `AC${'1'.repeat(32)}`;
export const SIM_AUTH_TOKEN = 'sim-test-auth-token-0123';

export interface RunningTestSimulator {
  simulator: Simulator;
  url: string;
  /** POST /__sim/config through HTTP, as a test or operator would. */
  configure(patch: Partial<SimConfig> | Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export async function startSimulator(
  deliverTo: string,
  config: Partial<SimConfig> = {},
  publicBaseUrl = deliverTo,
): Promise<RunningTestSimulator> {
  const simulator = createSimulator({
    accountSid: SIM_ACCOUNT_SID,
    authToken: SIM_AUTH_TOKEN,
    deliverTo,
    publicBaseUrl,
    defaultTo: 'whatsapp:+14155238886',
    config: { ...DEFAULT_SIM_CONFIG, callbackDelayMs: { min: 0, max: 5 }, ...config },
  });
  const url = await simulator.listen(0);
  return {
    simulator,
    url,
    configure: async (patch) => {
      const res = await fetch(`${url}/__sim/config`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(patch),
      });
      if (res.status !== 200) throw new Error(`config refused: ${await res.text()}`);
    },
    close: () => simulator.close(),
  };
}
