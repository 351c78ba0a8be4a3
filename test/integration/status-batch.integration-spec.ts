import { randomBytes } from 'node:crypto';
import * as fc from 'fast-check';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import type { EventResult, StatusEvent } from '../../src/modules/delivery/delivery.types';
import { StatusBatchRepository } from '../../src/modules/delivery/status/status-batch.repository';
import { MessageWriter } from '../../src/modules/delivery/status/message-writer';
import { StatusEventBatcher } from '../../src/modules/delivery/status/status-event-batcher';
import { eventOrder } from '../../src/modules/delivery/status/status-machine';
import { OneAtATimeEvents } from '../support/one-at-a-time-events';
import { insertSender } from '../support/outbox-fixtures';
import { testDatabaseUrl } from '../support/test-env';

// Group commit must not change what happens: a batch of events gives exactly the outcomes and
// rows of the same events applied one at a time in eventOrder — duplicates, orphans, tokens
// repeated, several events for one message and the reconciler's authority included.

const START = ['accepted', 'queued', 'sent', 'delivered', 'failed'];
const STATUSES = ['queued', 'sent', 'delivered', 'read', 'failed', 'undelivered', 'bogus'];

interface EventSpec {
  message: number; // index of a seeded message; >= seeded count → an unknown (orphan) SID
  byId: boolean;
  status: string;
  errorCode: number | null;
  token: number | null;
  reconciler: boolean;
}

describe('group commit of status events on the real database', () => {
  let dataSource: DataSource;
  let single: OneAtATimeEvents;
  let batches: StatusBatchRepository;
  let userId: string;

  beforeAll(async () => {
    dataSource = await new DataSource(
      dataSourceOptions({ url: testDatabaseUrl(), poolSize: 10 }, []),
    ).initialize();
    single = new OneAtATimeEvents(dataSource);
    batches = new StatusBatchRepository(new MessageWriter(dataSource));
    userId = await insertSender(dataSource, 'batch');
  });

  afterAll(async () => {
    await dataSource.destroy();
  });

  /** One world: its own messages, SIDs and tokens, so two worlds never share a unique key. */
  async function world(starts: string[]) {
    const tag = randomBytes(4).toString('hex');
    const sids = starts.map(() => `SM${randomBytes(16).toString('hex')}`);
    const ids: string[] = [];
    for (const [index, status] of starts.entries()) {
      const [row] = await dataSource.query<{ id: string }[]>(
        `INSERT INTO whatsapp_messages (direction, twilio_sid, "to", status, attempts, max_attempts, created_by)
         VALUES ('outbound', $1, 'whatsapp:+14155550100', $2, 1, 8, $3) RETURNING id`,
        [sids[index], status, userId],
      );
      ids.push(row.id);
    }
    const at = new Date('2026-11-30T12:00:00Z');
    const event = (spec: EventSpec, n: number): StatusEvent => {
      const known = spec.message < ids.length;
      return {
        ...(known && spec.byId ? { messageId: ids[spec.message] } : {}),
        twilioSid: known ? sids[spec.message] : `SM${tag}orphan${spec.message}`,
        status: spec.status,
        errorCode: spec.errorCode,
        errorMessage: spec.errorCode === null ? null : `error ${spec.errorCode}`,
        source: spec.reconciler ? 'reconciler' : 'callback',
        payload: { MessageStatus: spec.status },
        idempotencyToken: spec.token === null ? null : `${tag}-token-${spec.token}`,
        at: new Date(at.getTime() + n * 1000),
      };
    };
    /** What the world looks like now, without its ids, SIDs and tokens. */
    const state = async () => {
      const messages = await dataSource.query<Record<string, unknown>[]>(
        `SELECT status, error_code, accepted_at, sent_at, delivered_at, read_at, failed_at
           FROM whatsapp_messages WHERE id = ANY($1) ORDER BY array_position($1, id)`,
        [ids],
      );
      const logs = await dataSource.query<{ entry: string }[]>(
        `SELECT concat_ws('/', array_position($1, message_id), replace(twilio_sid, $2, ''),
                          status, error_code, source, applied, replace(idempotency_token, $2, ''))
                  AS entry
           FROM message_status_logs
          WHERE message_id = ANY($1) OR twilio_sid LIKE 'SM' || $2 || '%'
          ORDER BY 1`,
        [ids, tag],
      );
      return { messages, logs: logs.map((row) => row.entry.replace(/SM[0-9a-f]{32}/g, 'SID')) };
    };
    /** The event log of the world's messages: per message, its events in sequence order. */
    const events = async () =>
      (
        await dataSource.query<{ entry: string }[]>(
          `SELECT concat_ws('/', array_position($1, message_id), sequence, previous_status, status,
                            error_code, occurred_at) AS entry
             FROM events WHERE message_id = ANY($1) ORDER BY 1`,
          [ids],
        )
      ).map((row) => row.entry);
    return { event, state, events };
  }

  const specs = fc.array(
    fc.record({
      message: fc.integer({ min: 0, max: 4 }),
      byId: fc.boolean(),
      status: fc.constantFrom(...STATUSES),
      errorCode: fc.constantFrom(null, null, 30003, 30008),
      token: fc.constantFrom(null, null, 1, 2, 3),
      reconciler: fc.boolean(),
    }),
    { minLength: 1, maxLength: 16 },
  );

  const normal = (results: EventResult[]) =>
    results.map(({ outcome, anomaly, messageId }) => ({
      outcome,
      anomaly,
      known: messageId !== null,
    }));

  it('should give the same outcomes and rows as one event at a time, in event order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...START), { minLength: 3, maxLength: 3 }),
        specs,
        async (starts, eventSpecs) => {
          const batched = await world(starts);
          const oneByOne = await world(starts);
          const singly = await world(starts);
          const batchEvents = eventSpecs.map((spec, n) => batched.event(spec, n));
          const batchResults = await batches.record(batchEvents);

          // The same events, one at a time, in the order the batch applies them.
          const order = eventSpecs
            .map((_spec, index) => index)
            .sort(
              (a, b) =>
                eventOrder(eventSpecs[a].status) - eventOrder(eventSpecs[b].status) || a - b,
            );
          const singleResults: EventResult[] = new Array<EventResult>(eventSpecs.length);
          for (const index of order) {
            singleResults[index] = await single.record(oneByOne.event(eventSpecs[index], index));
            // And through the production writer, one event per batch: the event log must match.
            await batches.record([singly.event(eventSpecs[index], index)]);
          }

          expect(normal(batchResults)).toEqual(normal(singleResults));
          expect(await batched.state()).toEqual(await oneByOne.state());
          expect(await batched.state()).toEqual(await singly.state());
          const log = await batched.events();
          expect(log).toEqual(await singly.events());
          // One event per applied change, and nothing else.
          const applied = batchResults.filter((result) => result.outcome === 'applied').length;
          expect(log).toHaveLength(applied);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('should isolate an event the database refuses, and fail a whole flush only with its own callers', async () => {
    const batcher = new StatusEventBatcher(batches);
    const good = await world(['accepted']);
    const spec = (status: string): EventSpec => ({
      message: 0,
      byId: true,
      status,
      errorCode: null,
      token: null,
      reconciler: false,
    });
    const bad: StatusEvent = { ...good.event(spec('sent'), 0), payload: { Body: 'a\u0000b' } };
    const [refused, delivered] = await Promise.allSettled([
      batcher.submit(bad),
      batcher.submit(good.event(spec('delivered'), 1)),
    ]);
    expect(refused.status).toBe('rejected');
    expect(delivered).toMatchObject({ status: 'fulfilled', value: { outcome: 'applied' } });
    expect((await good.state()).messages[0]).toMatchObject({ status: 'delivered' });

    // A flush that fails for another reason fails its callers, and only them.
    const failing = new StatusEventBatcher({
      record: () => Promise.reject(new Error('connection lost')),
    } as unknown as StatusBatchRepository);
    const other = await world(['accepted']);
    const [lost, kept] = await Promise.allSettled([
      failing.submit(other.event(spec('sent'), 0)),
      batcher.submit(other.event(spec('read'), 1)),
    ]);
    expect(lost).toMatchObject({ status: 'rejected', reason: new Error('connection lost') });
    expect(kept).toMatchObject({ status: 'fulfilled', value: { outcome: 'applied' } });
    await batcher.drain();
  });
});
