import type { AppConfig } from '../config/app-config';
import type { Env } from '../config/env-reader';
import { simConfigFromEnv } from './sim-config';
import type { SimulatorOptions } from './sim-context';

const SANDBOX_NUMBER = 'whatsapp:+14155238886';

/** The simulator speaks for the app's own account: same SID and token, same public URL. */
export function simulatorOptionsFrom(config: AppConfig, env: Env): SimulatorOptions {
  return {
    accountSid: config.twilio.accountSid,
    authToken: config.twilio.authToken,
    deliverTo: config.simulator.deliverTo,
    publicBaseUrl: config.publicBaseUrl,
    defaultTo: config.twilio.whatsappFrom ?? SANDBOX_NUMBER,
    config: simConfigFromEnv(env),
  };
}
