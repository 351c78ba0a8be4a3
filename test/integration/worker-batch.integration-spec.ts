import { randomBytes, randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import * as fc from 'fast-check';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { OutboxBatcher } from '../../src/modules/delivery/outbox-batcher';
import { OutboxRepository } from '../../src/modules/delivery/outbox.repository';
import type { TwilioAnswer } from '../../src/modules/delivery/outbox.types';
import { testDatabaseUrl } from '../support/test-env';

// The worker's claims and Twilio's answers are grouped across jobs. That must not change what
// happens: a batch gives exactly the results and rows of the same calls made one at a time in
// order — a message claimed twice in one batch (a duplicate job), an answer from a stale attempt
// beside the holder's, answers the state machine refuses, rows already final.

const STALE_MS = 30_000;

/** Where a message starts: its status, attempts, and whether its holder is alive. */
const start = fc.record({
  status: fc.constantFrom('pending', 'dispatching', 'queued', 'delivered', 'failed'),
  attempts: fc.integer({ min: 0, max: 2 }),
  holderDied: fc.boolean(),
  uncertain: fc.boolean(),
});
type Start = { status: string; attempts: number; holderDied: boolean; uncertain: boolean };

const claim = fc.integer({ min: 0, max: 3 });
const answer = fc.record({
  message: fc.integer({ min: 0, max: 3 }),
  attempt: fc.integer({ min: 1, max: 3 }),
  status: fc.constantFrom('queued', 'accepted', 'sent', 'failed', 'undelivered', 'whatever'),
  sidVariant: fc.integer({ min: 0, max: 1 }),
});
type Answer = { message: number; attempt: number; status: string; sidVariant: number };

describe("the worker's grouped claims and answers on the real database", () => {
  let dataSource: DataSource;
  let outbox: OutboxRepository;
  let userId: string;

  beforeAll(async () => {
    dataSource = await new DataSource(
      dataSourceOptions({ url: testDatabaseUrl(), poolSize: 6 }, []),
    ).initialize();
    outbox = new OutboxRepository(dataSource);
    const [user] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email, password_hash, role) VALUES ($1, 'x', 'sender') RETURNING id`,
      [`worker-batch-${randomUUID()}@example.com`],
    );
    userId = user.id;
  });

  afterAll(async () => {
    await dataSource.destroy();
  });

  const newMessage = () =>
    outbox.createPending({
      from: 'whatsapp:+14155238886',
      to: 'whatsapp:+14155550100',
      body: 'x',
      contentSid: null,
      contentVariables: null,
      mediaUrls: [],
      reference: null,
      metadata: null,
      createdBy: userId,
      idempotencyKey: null,
      maxAttempts: 8,
    });

  /** Four messages in the given states, with SIDs of their own (two worlds never share one). */
  async function world(starts: Start[]) {
    const tag = randomBytes(6).toString('hex');
    const ids: string[] = [];
    for (const s of starts) {
      const id = await newMessage();
      await dataSource.query(
        `UPDATE whatsapp_messages
            SET status = $2, attempts = $3,
                dispatch_started_at = CASE WHEN $2 = 'dispatching'
                  THEN now() - CASE WHEN $4 THEN interval '1 minute' ELSE interval '0' END END,
                uncertain_since = CASE WHEN $5 THEN now() - interval '2 minutes' END
          WHERE id = $1`,
        [id, s.status, s.attempts, s.holderDied, s.uncertain],
      );
      ids.push(id);
    }
    const slot = (id: string) => ids.indexOf(id);
    return {
      ids,
      answer(a: Answer): { id: string; attempt: number; answer: TwilioAnswer } {
        const failure = a.status === 'failed' || a.status === 'undelivered';
        return {
          id: ids[a.message],
          attempt: a.attempt,
          answer: {
            sid: `SM${tag}${a.message}${a.sidVariant}`,
            status: a.status,
            errorCode: failure ? 63016 : null,
            errorMessage: failure ? 'outside the window' : null,
          },
        };
      },
      /** What can be compared across worlds: slots instead of ids, set-or-not for times. */
      async state() {
        const messages = await dataSource.query<Record<string, unknown>[]>(
          `SELECT id, status, attempts, right(twilio_sid, 2) AS sid, error_code, error_message,
                  last_error_retryable, dispatch_started_at IS NOT NULL AS held,
                  uncertain_since IS NOT NULL AS uncertain, accepted_at IS NOT NULL AS accepted,
                  sent_at IS NOT NULL AS sent, failed_at IS NOT NULL AS failed
             FROM whatsapp_messages WHERE id = ANY($1)`,
          [ids],
        );
        const logs = await dataSource.query<Record<string, unknown>[]>(
          `SELECT message_id, status, source, applied, attempt, right(twilio_sid, 2) AS sid,
                  error_code
             FROM message_status_logs WHERE message_id = ANY($1)
            ORDER BY message_id, attempt, status, source`,
          [ids],
        );
        const bySlot = (rows: Record<string, unknown>[], key: string) =>
          rows
            .map(({ [key]: id, ...rest }) => ({ slot: slot(id as string), ...rest }))
            .sort((a, b) => a.slot - b.slot);
        return { messages: bySlot(messages, 'id'), logs: bySlot(logs, 'message_id') };
      },
      claimed(result: { id: string; attempts: number; uncertainSince: Date | null } | null) {
        return result === null
          ? null
          : {
              slot: slot(result.id),
              attempts: result.attempts,
              uncertain: result.uncertainSince !== null,
            };
      },
    };
  }

  it('should give the same claims and rows as claiming one at a time, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(start, { minLength: 4, maxLength: 4 }),
        fc.array(claim, { minLength: 1, maxLength: 10 }),
        async (starts, claims) => {
          const batched = await world(starts);
          const single = await world(starts);
          const batchResults = await outbox.claimForSendMany(
            claims.map((index) => ({ id: batched.ids[index], staleMs: STALE_MS })),
          );
          const singleResults = [];
          for (const index of claims) {
            singleResults.push(await outbox.claimForSend(single.ids[index], STALE_MS));
          }
          expect(batchResults.map((result) => batched.claimed(result))).toEqual(
            singleResults.map((result) => single.claimed(result)),
          );
          expect(batchResults.filter((result) => result !== null).length).toBeLessThanOrEqual(4);
          expect(await batched.state()).toEqual(await single.state());
        },
      ),
      { numRuns: 40, seed: 20261201 },
    );
  });

  it("should give the same results and rows as recording Twilio's answers one at a time", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(start, { minLength: 4, maxLength: 4 }),
        fc.array(answer, { minLength: 1, maxLength: 10 }),
        async (starts, answers) => {
          const batched = await world(starts);
          const single = await world(starts);
          const batchResults = await outbox.recordAcceptedMany(answers.map(batched.answer));
          const singleResults = [];
          for (const a of answers) {
            const { id, attempt, answer: given } = single.answer(a);
            singleResults.push(await outbox.recordAccepted(id, attempt, given));
          }
          const applied = (results: { applied: boolean; stages?: object }[]) =>
            results.map((result) => ({ applied: result.applied, stages: 'stages' in result }));
          expect(applied(batchResults)).toEqual(applied(singleResults));
          expect(await batched.state()).toEqual(await single.state());
        },
      ),
      { numRuns: 40, seed: 20261202 },
    );
  });

  it('should group concurrent jobs into shared statements, one claim winning per message', async () => {
    const ids = await Promise.all(Array.from({ length: 16 }, () => newMessage()));
    const sizes: number[] = [];
    const counting = new OutboxRepository(dataSource);
    const claimMany = counting.claimForSendMany.bind(counting);
    counting.claimForSendMany = (claims) => {
      sizes.push(claims.length);
      return claimMany(claims);
    };
    const batcher = new OutboxBatcher(counting);
    Logger.overrideLogger(false);
    // Every message's job twice, as a stalled job and its duplicate would be, all at once.
    const claims = await Promise.all([...ids, ...ids].map((id) => batcher.claim(id, STALE_MS)));
    const winners = claims.filter((claimed) => claimed !== null);
    expect(winners.map((claimed) => claimed.id).sort()).toEqual([...ids].sort());
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(32);

    const results = await Promise.all(
      winners.map((claimed, index) =>
        batcher.recordAccepted(claimed.id, claimed.attempts, {
          sid: `SM${randomUUID().replace(/-/g, '')}`,
          status: index % 2 === 0 ? 'queued' : 'accepted',
          errorCode: null,
          errorMessage: null,
        }),
      ),
    );
    expect(results.every((result) => result.applied)).toBe(true);
    const rows = await dataSource.query<{ status: string; n: number }[]>(
      `SELECT status, count(*)::int AS n FROM whatsapp_messages WHERE id = ANY($1)
        GROUP BY status ORDER BY status`,
      [ids],
    );
    expect(rows).toEqual([
      { status: 'accepted', n: 8 },
      { status: 'queued', n: 8 },
    ]);
  });
});
