import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { Env } from '../../src/config/env-reader';
import type { SimConfig } from '../../src/simulator/sim-config';
import type { FormParams } from '../../src/simulator/twilio-signature';
import { adminToken, createUser, type TestUser } from '../factories/users.factory';
import { signedWebhook } from './signed-webhook';
import {
  SIM_ACCOUNT_SID,
  SIM_AUTH_TOKEN,
  startSimulator,
  type RunningTestSimulator,
} from './simulator';
import { startTestApp, testConfig, type TestApp } from './test-app';

export const PUBLIC_URL = 'https://api.example.com';

export interface SimTruth {
  messages: {
    sid: string;
    mid: string | null;
    to: string;
    status: string;
    errorCode: number | null;
    createdAt: string;
  }[];
  /** Per mid: `count` create calls (rejected ones included), `accepted` messages created. */
  creates: { mid: string; to: string | null; count: number; accepted: number }[];
}

/** The app (all roles, fast retries) against its own Twilio simulator. */
export class Stack {
  private constructor(
    readonly test: TestApp,
    readonly sim: RunningTestSimulator,
    readonly sender: TestUser,
  ) {}

  /**
   * `listen`: the app also listens on 127.0.0.1 and the simulator delivers callbacks to it, as a
   * TLS-terminating proxy would (PUBLIC_BASE_URL defaults to https://api.example.com).
   */
  static async start(
    env: Env = {},
    sim: Partial<SimConfig> = {},
    options: { listen?: boolean; logger?: Logger } = {},
  ): Promise<Stack> {
    const simulator = await startSimulator('http://127.0.0.1:9', {
      callbackDelayMs: { min: 0, max: 5 },
      ...sim,
    });
    const config = testConfig({
      TWILIO_ACCOUNT_SID: SIM_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: SIM_AUTH_TOKEN,
      TWILIO_API_BASE_URL: simulator.url,
      PUBLIC_BASE_URL: PUBLIC_URL,
      ...env,
    });
    simulator.simulator.context.options.publicBaseUrl = config.publicBaseUrl;
    const test = await startTestApp(env, config, options.logger);
    if (options.listen) {
      await test.app.listen({ port: 0, host: '127.0.0.1' });
      const address = test.app.getHttpAdapter().getInstance().server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      simulator.simulator.context.options.deliverTo = `http://127.0.0.1:${port}`;
    }
    const stack = new Stack(test, simulator, await createUser(test.app, 'sender'));
    stack.users.push(stack.sender.id);
    return stack;
  }

  get app(): TestApp['app'] {
    return this.test.app;
  }

  get db(): DataSource {
    return this.test.app.get(DataSource);
  }

  send(
    body: Record<string, unknown>,
    options: { token?: string; idempotencyKey?: string; ip?: string } = {},
  ) {
    return this.app.inject({
      method: 'POST',
      url: '/api/v1/whatsapp/send',
      headers: {
        authorization: `Bearer ${options.token ?? this.sender.token}`,
        ...(options.idempotencyKey !== undefined
          ? { 'idempotency-key': options.idempotencyKey }
          : {}),
      },
      payload: body,
    });
  }

  /** A webhook POST signed as Twilio signs it, over PUBLIC_BASE_URL + path. */
  signedPost(
    path: string,
    params: FormParams,
    options: {
      token?: string;
      authToken?: string;
      headers?: Record<string, string>;
      ip?: string;
    } = {},
  ) {
    return signedWebhook(this.test, path, params, {
      authToken: options.authToken ?? SIM_AUTH_TOKEN,
      headers: {
        ...(options.token !== undefined ? { 'i-twilio-idempotency-token': options.token } : {}),
        ...options.headers,
      },
      ...(options.ip !== undefined ? { ip: options.ip } : {}),
    });
  }

  async adminToken(): Promise<string> {
    return adminToken(this.app);
  }

  async truth(): Promise<SimTruth> {
    return (await (await fetch(`${this.sim.url}/__sim/messages`)).json()) as SimTruth;
  }

  async row(id: string): Promise<Record<string, unknown>> {
    const [row] = await this.db.query<Record<string, unknown>[]>(
      'SELECT * FROM whatsapp_messages WHERE id = $1',
      [id],
    );
    return row;
  }

  /** Polls the message row until `done` holds (or fails after `timeoutMs`). */
  async waitFor(
    id: string,
    done: (row: Record<string, unknown>) => boolean,
    timeoutMs = 15_000,
  ): Promise<Record<string, unknown>> {
    const started = Date.now();
    let row = await this.row(id);
    while (!done(row)) {
      if (Date.now() - started > timeoutMs)
        throw new Error(`message ${id} stuck: ${JSON.stringify(row)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      row = await this.row(id);
    }
    return row;
  }

  /** Waits until no outbound message is pending or dispatching. */
  async settle(timeoutMs = 30_000): Promise<void> {
    const started = Date.now();
    for (;;) {
      const [{ open }] = await this.db.query<{ open: number }[]>(
        `SELECT count(*)::int AS open FROM whatsapp_messages
          WHERE status IN ('pending', 'dispatching') AND created_by = ANY($1)`,
        [this.users],
      );
      if (open === 0) return;
      if (Date.now() - started > timeoutMs) throw new Error(`${open} messages still open`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Users whose messages settle() waits for (the stack's sender and any added). */
  readonly users: string[] = [];

  async close(): Promise<void> {
    await this.test.close();
    await this.sim.close();
  }
}

export const ACCEPTED = (row: Record<string, unknown>): boolean =>
  row.twilio_sid !== null && !['pending', 'dispatching'].includes(String(row.status));
export const FINISHED = (row: Record<string, unknown>): boolean =>
  !['pending', 'dispatching'].includes(String(row.status));
