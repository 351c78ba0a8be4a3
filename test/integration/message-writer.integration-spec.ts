import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { StatusEvent } from '../../src/modules/delivery/delivery.types';
import { InboundRepository } from '../../src/modules/delivery/inbound/inbound.repository';
import { MessageWriter } from '../../src/modules/delivery/status/message-writer';
import { OutboxRepository } from '../../src/modules/delivery/outbox/outbox.repository';
import { ReconcileRepository } from '../../src/modules/delivery/reconcile/reconcile.repository';
import { StatusBatchRepository } from '../../src/modules/delivery/status/status-batch.repository';
import {
  decideOutboxMove,
  decideTransition,
  isFailure,
  OUTBOUND_STATUSES,
  outboxMoveTo,
  STAGE_COLUMNS,
  stagesProvedBy,
  type OutboxMove,
} from '../../src/modules/delivery/status/status-machine';
import { inboundMessage, newPhone } from '../factories/inbound.factory';
import { insertSender, openWriters, outboundMessage } from '../support/outbox-fixtures';
import { countingDataSource } from '../support/statement-counter';
import { testDatabaseUrl } from '../support/test-env';

// Every entry point of the one writer, driven from every status with every event or move: the
// stored row must be what the state machine says (decideTransition, or the outbox's move table),
// whatever the entry point. Then what each writer costs: statements per batch, whatever its size.

/** Where a message may stand: every outbound status, and an inbound one nothing may move. */
const STARTS = [...OUTBOUND_STATUSES, 'received'];
/** What may arrive: every status, an inbound one and one nobody knows. */
const EVENTS = [...OUTBOUND_STATUSES, 'received', 'bogus'];
const HOLDER = 1;
const STALE_MS = 30_000;

interface StoredRow {
  id: string;
  status: string;
  error_code: number | null;
  twilio_sid: string;
  stages: string[];
  reconciled: boolean;
  leased: boolean;
}

describe('the one writer, entry point by entry point, on the real database', () => {
  let dataSource: DataSource;
  let outbox: OutboxRepository;
  let batches: StatusBatchRepository;
  let userId: string;

  beforeAll(async () => {
    ({ dataSource, outbox, batches } = await openWriters(testDatabaseUrl()));
    userId = await insertSender(dataSource, 'writer-table');
  });

  afterAll(async () => {
    await dataSource.destroy();
  });

  /**
   * One message per start status, held by attempt 1 whose worker died a minute ago (so a claim
   * may take a `dispatching` one over), with a retryable last error (so an admin may retry a
   * `failed` one), a SID of its own and a reconcile lease running.
   */
  async function seed(starts: readonly string[]): Promise<string[]> {
    const ids = await outbox.createPendingMany(starts.map(() => outboundMessage(userId)));
    await dataSource.query(
      `UPDATE whatsapp_messages m
          SET status = v.status, attempts = $3,
              dispatch_started_at = CASE WHEN v.status = 'dispatching'
                                         THEN now() - interval '1 minute' END,
              last_error_retryable = true,
              twilio_sid = 'SM' || replace(m.id::text, '-', ''),
              reconcile_lease_until = now() + interval '1 minute'
         FROM unnest($1::uuid[], $2::text[]) AS v(id, status)
        WHERE m.id = v.id`,
      [ids, starts, HOLDER],
    );
    return ids;
  }

  async function stored(ids: readonly string[]): Promise<StoredRow[]> {
    const rows = await dataSource.query<StoredRow[]>(
      `SELECT id, status, error_code, twilio_sid,
              array_remove(ARRAY[${STAGE_COLUMNS.map((column) => `CASE WHEN ${column} IS NOT NULL THEN '${column}' END`).join(', ')}], NULL) AS stages,
              reconciled_at IS NOT NULL AS reconciled,
              reconcile_lease_until IS NOT NULL AS leased
         FROM whatsapp_messages WHERE id = ANY($1)`,
      [ids],
    );
    return ids.map((id) => rows.find((row) => row.id === id) as StoredRow);
  }

  /** Every (start, event) pair, one message each. */
  async function grid() {
    const pairs = STARTS.flatMap((start) => EVENTS.map((event) => ({ start, event })));
    const ids = await seed(pairs.map((pair) => pair.start));
    return { pairs, ids };
  }

  /** What decideTransition says the row becomes. */
  function expectedAfterEvent(start: string, event: string) {
    const applies = decideTransition(start, event).applies;
    return {
      status: applies ? event : start,
      stages: applies ? [...stagesProvedBy(event)].sort() : [],
      error_code: applies && isFailure(event) ? 30008 : null,
    };
  }

  const seen = (row: StoredRow) => ({
    status: row.status,
    stages: [...row.stages].sort(),
    error_code: row.error_code,
  });

  it("should store Twilio's answer to the holder as decideTransition says, from every status", async () => {
    const { pairs, ids } = await grid();
    await outbox.recordAcceptedMany(
      pairs.map(({ event }, index) => ({
        id: ids[index],
        attempt: HOLDER,
        answer: {
          sid: `SMother${index}`,
          status: event,
          errorCode: isFailure(event) ? 30008 : null,
          errorMessage: isFailure(event) ? 'x' : null,
        },
      })),
    );
    const rows = await stored(ids);
    pairs.forEach(({ start, event }, index) => {
      expect({ pair: `${start} ← ${event}`, ...seen(rows[index]) }).toEqual({
        pair: `${start} ← ${event}`,
        ...expectedAfterEvent(start, event),
      });
      // The message had a SID: an answer never replaces it.
      expect(rows[index].twilio_sid).toBe(`SM${ids[index].replace(/-/g, '')}`);
    });
  });

  it.each([
    ['callbacks', { source: 'callback' as const }],
    ["the reconciler's looks", { source: 'reconciler' as const, reconciled: true }],
  ])('should store %s as decideTransition says, from every status', async (_label, origin) => {
    const { pairs, ids } = await grid();
    const events: StatusEvent[] = pairs.map(({ event }, index) => ({
      messageId: ids[index],
      twilioSid: `SM${ids[index].replace(/-/g, '')}`,
      status: event,
      errorCode: isFailure(event) ? 30008 : null,
      errorMessage: isFailure(event) ? 'x' : null,
      idempotencyToken: randomUUID(),
      ...origin,
    }));
    await batches.record(events);
    const rows = await stored(ids);
    pairs.forEach(({ start, event }, index) => {
      expect({ pair: `${start} ← ${event}`, ...seen(rows[index]) }).toEqual({
        pair: `${start} ← ${event}`,
        ...expectedAfterEvent(start, event),
      });
      // The reconciler's look ends its lease and marks the message looked at, applied or not.
      const looked = origin.source === 'reconciler';
      expect({ reconciled: rows[index].reconciled, leased: rows[index].leased }).toEqual({
        reconciled: looked,
        leased: !looked,
      });
    });
  });

  it('should store a send that failed for good as decideTransition says, from every status', async () => {
    const ids = await seed(STARTS);
    for (const id of ids) {
      await outbox.recordSendFailure(id, HOLDER, {
        errorCode: 30008,
        errorMessage: 'x',
        retryable: true,
      });
    }
    const rows = await stored(ids);
    STARTS.forEach((start, index) => {
      expect({ start, ...seen(rows[index]) }).toEqual({
        start,
        ...expectedAfterEvent(start, 'failed'),
      });
    });
  });

  /** The outbox's own moves: where decideOutboxMove lets them start, they end at outboxMoveTo. */
  const MOVES: [OutboxMove, (id: string) => Promise<unknown>][] = [
    ['claim', (id) => outbox.claimForSendMany([{ id, staleMs: STALE_MS }])],
    [
      'retry-later',
      (id) =>
        outbox.scheduleRetry(id, HOLDER, {
          delayMs: 1_000,
          errorCode: null,
          errorMessage: 'later',
          uncertain: false,
        }),
    ],
    ['admin-retry', (id) => outbox.retryFailed(id, 3)],
  ];

  it.each(MOVES)(
    'should make the %s move exactly from where the move table lets it start',
    async (move, run) => {
      const ids = await seed(STARTS);
      const answers: unknown[] = [];
      for (const id of ids) answers.push(await run(id));
      const rows = await stored(ids);
      STARTS.forEach((start, index) => {
        const moves = decideOutboxMove(start, move);
        expect({ start, status: rows[index].status, answered: answers[index] !== null }).toEqual({
          start,
          status: moves ? outboxMoveTo(move) : start,
          // A claim answers a list (one result, null when refused); the others the attempt.
          answered: move === 'claim' ? true : moves,
        });
      });
    },
  );
});

describe('what each writer costs: statements per batch, whatever its size', () => {
  let counting: Awaited<ReturnType<typeof countingDataSource>>;
  let outbox: OutboxRepository;
  let batches: StatusBatchRepository;
  let inbound: InboundRepository;
  let userId: string;

  beforeAll(async () => {
    counting = await countingDataSource(testDatabaseUrl());
    const writer = new MessageWriter(counting.dataSource);
    outbox = new OutboxRepository(counting.dataSource, writer);
    batches = new StatusBatchRepository(writer);
    inbound = new InboundRepository(counting.dataSource);
    userId = await insertSender(counting.dataSource, 'writer-cost');
  });

  afterAll(async () => {
    await counting.dataSource.destroy();
  });

  const newMessages = (n: number) =>
    outbox.createPendingMany(Array.from({ length: n }, () => outboundMessage(userId)));

  /** Runs the writer over a batch of `n` new messages (claimed first, unless it claims); what it sent. */
  async function cost(n: number, write: (ids: string[]) => Promise<unknown>, claimed = true) {
    const ids = await newMessages(n);
    if (claimed) await outbox.claimForSendMany(ids.map((id) => ({ id, staleMs: STALE_MS })));
    return counting.count(() => write(ids));
  }

  const answerOf = (status: string) => ({
    sid: `SM${randomBytes(16).toString('hex')}`,
    status,
    errorCode: null,
    errorMessage: null,
  });

  // Statements with data per batch before this writer (a claim and an answer were one statement
  // with no transaction; a reconciled message took one more UPDATE of its own), and now. Every
  // writer is one transaction; its statements do not grow with the batch.
  const WRITERS: [string, number, number, (ids: string[]) => Promise<unknown>][] = [
    ['claim', 1, 2, (ids) => outbox.claimForSendMany(ids.map((id) => ({ id, staleMs: STALE_MS })))],
    [
      "Twilio's answer",
      1,
      2,
      (ids) =>
        outbox.recordAcceptedMany(
          ids.map((id) => ({ id, attempt: 1, answer: answerOf('queued') })),
        ),
    ],
    [
      'callbacks',
      3,
      3,
      (ids) =>
        batches.record(
          ids.map((id) => ({ messageId: id, status: 'sent', source: 'callback' as const })),
        ),
    ],
    [
      "the reconciler's looks",
      3 + 1,
      3,
      (ids) =>
        batches.record(
          ids.map((id) => ({
            messageId: id,
            status: 'sent',
            source: 'reconciler' as const,
            reconciled: true,
          })),
        ),
    ],
    ["the reconciler's unanswered looks", 1, 2, (ids) => batches.markReconciled(ids)],
  ];

  it.each(WRITERS)(
    '%s: at most one statement more than before, the same for 1 and 50 messages',
    async (writer, before, now, write) => {
      const one = await cost(1, write, writer !== 'claim');
      const fifty = await cost(50, write, writer !== 'claim');
      expect(one).toEqual({ statements: now, transactions: 1 });
      expect(fifty).toEqual(one);
      expect(now).toBeLessThanOrEqual(before + 1);
    },
  );

  it.each([
    [
      'failure',
      (id: string) =>
        outbox.recordSendFailure(id, 1, { errorCode: 1, errorMessage: 'x', retryable: true }),
    ],
    [
      'retry-later',
      (id: string) =>
        outbox.scheduleRetry(id, 1, {
          delayMs: 1,
          errorCode: null,
          errorMessage: 'x',
          uncertain: false,
        }),
    ],
  ])('%s (one message at a time): two statements, as before', async (_writer, write) => {
    expect(await cost(1, ([id]) => write(id))).toEqual({ statements: 2, transactions: 1 });
  });

  it('admin retry (one message at a time): two statements, as before', async () => {
    const [id] = await newMessages(1);
    await counting.dataSource.query(
      "UPDATE whatsapp_messages SET status = 'failed', last_error_retryable = true WHERE id = $1",
      [id],
    );
    expect(await counting.count(() => outbox.retryFailed(id, 2))).toEqual({
      statements: 2,
      transactions: 1,
    });
  });

  it('the reconciler leases a chunk in one statement, with no transaction of its own', async () => {
    const leases = new ReconcileRepository(counting.dataSource);
    expect(
      await counting.count(() =>
        leases.leaseDue({
          afterSeconds: 0,
          backoffSeconds: [300],
          giveUpSeconds: 86_400,
          read: false,
          limit: 50,
          leaseMs: 1,
          passStartedAt: null,
        }),
      ),
    ).toEqual({ statements: 1, transactions: 0 });
  });

  it('inbound: three statements (two before) for 1 and for 50 messages', async () => {
    const batch = (n: number) =>
      Array.from({ length: n }, (_, index) => {
        return { message: inboundMessage(newPhone(), { body: `hi ${index}` }), at: new Date() };
      });
    const one = await counting.count(() => inbound.recordMany(batch(1)));
    const fifty = await counting.count(() => inbound.recordMany(batch(50)));
    expect(one).toEqual({ statements: 3, transactions: 1 });
    expect(fifty).toEqual(one);
  });
});
