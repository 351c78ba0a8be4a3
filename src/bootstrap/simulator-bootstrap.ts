import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import type { Env } from '../config/env-reader';

export interface RunningSimulator {
  url: string;
  close(): Promise<void>;
}

/**
 * Outside production, with TWILIO_API_BASE_URL unset, the app talks to the built-in Twilio
 * simulator: started here in-process and the config pointed at it. The import is dynamic so
 * production never loads the simulator's code. If SIMULATOR_PORT is taken (an api and a worker
 * process started side by side), the one already there is used.
 */
export async function startSimulatorIfNeeded(
  config: AppConfig,
  env: Env,
  logger: Logger,
): Promise<RunningSimulator | undefined> {
  if (config.isProduction || config.twilio.apiBaseUrl !== undefined) return undefined;
  const { createSimulator } = await import('../simulator/simulator.server');
  const { simulatorOptionsFrom } = await import('../simulator/simulator-options');
  const simLogger = logger.child({ component: 'twilio-simulator' });
  const simulator = createSimulator(simulatorOptionsFrom(config, env), (entry, message) =>
    simLogger.debug(entry, message),
  );
  let url: string;
  let running: RunningSimulator | undefined;
  try {
    url = await simulator.listen(config.simulator.port);
    running = { url, close: () => simulator.close() };
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    url = `http://127.0.0.1:${config.simulator.port}`;
    logger.info({ url }, 'Twilio simulator port in use; using the simulator already there');
  }
  config.twilio.apiBaseUrl = url;
  logger.info(
    { simulator: url, deliversTo: config.simulator.deliverTo },
    'Twilio simulator in use (no TWILIO_API_BASE_URL); set TWILIO_API_BASE_URL=https://api.twilio.com for real Twilio',
  );
  return running;
}
