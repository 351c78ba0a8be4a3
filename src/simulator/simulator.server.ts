import Fastify, { type FastifyInstance } from 'fastify';
import { registerControlApi } from './control.routes';
import { parseForm } from './form';
import type { SimContext, SimulatorOptions } from './sim-context';
import { SimStore } from './sim-store';
import { registerTwilioApi } from './twilio-api.routes';

export interface Simulator {
  app: FastifyInstance;
  context: SimContext;
  /** Listens on 127.0.0.1 (port 0 = any free port) and returns the base URL. */
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

/** How often retired messages are looked for. */
const RETIRE_EVERY_MS = 5_000;

export type SimLogger = (entry: Record<string, unknown>, message: string) => void;

/**
 * The local Twilio stand-in (docs/architecture.md §4.4): a separate HTTP server that the app
 * reaches exactly as it reaches Twilio. Never loaded in production.
 */
export function createSimulator(
  options: SimulatorOptions,
  log: SimLogger = () => undefined,
): Simulator {
  const context: SimContext = {
    options,
    store: new SimStore(),
    config: structuredClone(options.config),
    random: Math.random,
    log,
  };
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => done(null, parseForm(body as string)),
  );
  registerTwilioApi(app, context);
  registerControlApi(app, context);
  const retiring = setInterval(() => context.store.sweep(context.config), RETIRE_EVERY_MS);
  retiring.unref();
  return {
    app,
    context,
    async listen(port: number, host = '127.0.0.1'): Promise<string> {
      const address = await app.listen({ port, host, backlog: 4096 });
      return address.replace('localhost', '127.0.0.1');
    },
    async close(): Promise<void> {
      clearInterval(retiring);
      context.store.reset();
      await app.close();
    },
  };
}
