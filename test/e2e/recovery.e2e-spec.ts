import { randomUUID } from 'node:crypto';
import * as fc from 'fast-check';
import { Counter } from 'prom-client';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import type { AppConfig } from '../../src/config/app-config';
import { DeliveryService } from '../../src/modules/delivery/delivery.service';
import { DispatchService } from '../../src/modules/messaging/dispatch.service';
import { OutboundQueue } from '../../src/modules/messaging/outbound.queue';
import { TwilioClient } from '../../src/modules/twilio/twilio.client';
import { outboundMessage } from '../support/outbox-fixtures';
import { Stack } from '../support/stack';

// The recovery invariant, as a property: whatever statement a crash interrupts on the send
// and failure paths, the message is picked up again by the claim or the sweeper within the
// takeover time (never left for the reconciler), a message Twilio accepted never stays
// `pending` or `dispatching`, and Twilio never creates it twice.

const GRACE_MS = 100;
const STALE_MS = 300;

/**
 * A crash at the k-th statement: that statement and every later one fail, as they would once
 * the process or its database connection is gone — except ROLLBACK, which is what PostgreSQL
 * does on its own when a connection dies. A test seam on the query runner, not a mock of logic.
 */
class Crash {
  private remaining: number | null = null;
  fired = false;

  at(statement: number): void {
    this.remaining = statement;
    this.fired = false;
  }

  restart(): void {
    this.remaining = null;
  }

  check(sql: string): void {
    if (this.remaining === null || /^\s*ROLLBACK/i.test(sql)) return;
    this.remaining -= 1;
    if (this.remaining <= 0) {
      this.fired = true;
      throw new Error('injected crash');
    }
  }
}

const crash = new Crash();
const originalQuery = PostgresQueryRunner.prototype.query;
type QueryArgs = Parameters<typeof originalQuery>;

type Path = 'accepted' | 'rejected' | 'created-then-500';
const TO: Record<Path, string> = {
  accepted: '+14155550123',
  rejected: '+15005550001', // Twilio's magic number: 21211, a permanent error
  'created-then-500': '+14155550124',
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('recovery: a crash at any statement of the send and failure paths', () => {
  let stack: Stack;
  let delivery: DeliveryService;
  let dispatch: DispatchService;

  beforeAll(async () => {
    // ROLE=api: no worker, sweeper or reconciler of the app's own runs meanwhile, so the test
    // plays the worker and the sweeper itself and every statement is the path's.
    stack = await Stack.start({ ROLE: 'api', WINDOW_CHECK: 'off', SEND_MAX_ATTEMPTS: '8' });
    delivery = stack.app.get(DeliveryService, { strict: false });
    const config: AppConfig = {
      ...stack.test.config,
      sending: { ...stack.test.config.sending, dispatchStaleMs: STALE_MS, retryBaseMs: 1 },
    };
    dispatch = new DispatchService(
      config,
      stack.app.get(OutboundQueue, { strict: false }),
      stack.app.get(TwilioClient, { strict: false }),
      delivery,
      new Counter({
        name: 'recovery_send_attempts',
        help: 'test',
        labelNames: ['result', 'error_code'],
        registers: [],
      }),
    );
    PostgresQueryRunner.prototype.query = function (this: PostgresQueryRunner, ...args: QueryArgs) {
      crash.check(args[0]);
      return originalQuery.apply(this, args);
    } as typeof originalQuery;
  });

  afterAll(async () => {
    PostgresQueryRunner.prototype.query = originalQuery;
    await stack.close();
  });

  async function newMessage(path: Path): Promise<string> {
    return delivery.createPending(
      outboundMessage(stack.sender.id, {
        to: `whatsapp:${TO[path]}`,
        body: `recovery ${path} ${randomUUID()}`,
      }),
    );
  }

  async function statusOf(id: string): Promise<string> {
    return String((await stack.row(id)).status);
  }

  /** The sweeper's question: is this open message due for a (new) job? */
  async function due(id: string): Promise<boolean> {
    return (await delivery.findDue(GRACE_MS, STALE_MS, 10_000)).some((row) => row.id === id);
  }

  it('should recover every message exactly once, whichever statement a crash interrupts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Path>('accepted', 'rejected', 'created-then-500'),
        fc.integer({ min: 1, max: 14 }),
        async (path, statement) => {
          const id = await newMessage(path);
          await stack.sim.configure({ fiveXxAfterAcceptRate: path === 'created-then-500' ? 1 : 0 });
          crash.at(statement);
          await dispatch.dispatch(id).catch(() => undefined);
          crash.restart();
          await stack.sim.configure({ fiveXxAfterAcceptRate: 0 });

          // Recovery: once the takeover time has passed, an open message is due for the sweeper
          // (and its claim), and two workers racing for it make one send.
          for (let round = 0; ['pending', 'dispatching'].includes(await statusOf(id)); round += 1) {
            if (round > 20)
              throw new Error(`message ${id} never recovered (${path}, ${statement})`);
            await sleep(STALE_MS + GRACE_MS);
            expect(await due(id)).toBe(true);
            await Promise.all([dispatch.dispatch(id), dispatch.dispatch(id)]);
          }

          const row = await stack.row(id);
          const creates = (await stack.truth()).creates.filter((entry) => entry.mid === id);
          const accepted = creates.reduce((sum, entry) => sum + entry.accepted, 0);
          if (path === 'rejected') {
            expect(row).toMatchObject({ status: 'failed', error_code: 21211, twilio_sid: null });
            expect(accepted).toBe(0);
          } else {
            expect(accepted).toBe(1);
            const [message] = (await stack.truth()).messages.filter((entry) => entry.mid === id);
            expect(row.twilio_sid).toBe(message.sid);
            expect(['pending', 'dispatching', 'failed']).not.toContain(row.status);
          }
          expect(row.dispatch_started_at).toBeNull();
        },
      ),
      { numRuns: 40 },
    );
    // The seam did interrupt statements (a property that never crashed would prove nothing).
    crash.at(1);
    await expect(delivery.findDue(GRACE_MS, STALE_MS, 1)).rejects.toThrow('injected crash');
    crash.restart();
  });
});
