import { pino } from 'pino';
import { ConfigError } from '../config/env-reader';
import { loadConfig } from '../config/load-config';
import { processEnv } from '../config/process-env';
import { simulatorOptionsFrom } from './simulator-options';
import { createSimulator } from './simulator.server';

// `npm run simulator`: the Twilio stand-in alone, on SIMULATOR_HOST:SIMULATOR_PORT
// (default 127.0.0.1:4010).
async function main(): Promise<void> {
  const env = processEnv();
  const config = loadConfig(env);
  if (config.isProduction)
    throw new Error('the Twilio simulator never runs with NODE_ENV=production');
  const logger = pino({ level: config.logLevel, base: { service: 'twilio-simulator' } });
  const simulator = createSimulator(simulatorOptionsFrom(config, env), (entry, message) =>
    logger.info(entry, message),
  );
  const url = await simulator.listen(config.simulator.port, config.simulator.host);
  logger.info(
    { url, deliverTo: config.simulator.deliverTo, accountSid: config.twilio.accountSid },
    'Twilio simulator listening; point the app at it with TWILIO_API_BASE_URL',
  );
  const stop = (): void => {
    void simulator.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.lines().join('\n')}\n`);
  else process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
