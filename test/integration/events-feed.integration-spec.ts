import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import type { EventLogPosition, StatusEvent } from '../../src/modules/delivery/delivery.types';
import type { StatusBatchRepository } from '../../src/modules/delivery/status/status-batch.repository';
import type { OutboxRepository } from '../../src/modules/delivery/outbox/outbox.repository';
import { EventLogReader } from '../../src/modules/delivery/queries/event-log.reader';
import { EventsFeedService } from '../../src/modules/events/feed/events-feed.service';
import { decodeFeedCursor, encodeFeedCursor } from '../../src/modules/events/feed/feed-cursor';
import { insertSender, openWriters, outboundMessage } from '../support/outbox-fixtures';
import { testDatabaseUrl } from '../support/test-env';

// The feed in commit order. An event's id comes from a sequence when its row is inserted, but
// its batch may commit after a later id's batch: a feed that served "id > last seen" would pass
// the later id first and never serve the earlier one. These tests hold a real writer's batch
// open at its COMMIT (a deferred constraint trigger that waits on an advisory lock the test
// holds) while another batch commits.

const GATE_KEY = 774_201;

describe('the events feed on the real database', () => {
  let dataSource: DataSource;
  let outbox: OutboxRepository;
  let batches: StatusBatchRepository;
  let reader: EventLogReader;
  let feed: EventsFeedService;
  let userId: string;

  beforeAll(async () => {
    ({ dataSource, outbox, batches } = await openWriters(testDatabaseUrl()));
    reader = new EventLogReader(dataSource, dataSource);
    feed = new EventsFeedService(reader);
    userId = await insertSender(dataSource, 'events-feed');
  });

  afterAll(async () => {
    await dataSource.destroy();
  });

  /** Two claimed messages, ready for Twilio's answer (which is their first event). */
  const claimedPair = async (): Promise<{ id: string; attempt: number }[]> => {
    const ids = await outbox.createPendingMany([outboundMessage(userId), outboundMessage(userId)]);
    const claimed = await outbox.claimForSendMany(ids.map((id) => ({ id, staleMs: 30_000 })));
    return claimed.map((message) => {
      if (!message) throw new Error('a fresh message was not claimed');
      return { id: message.id, attempt: message.attempt };
    });
  };

  const answer = (message: { id: string; attempt: number }) =>
    outbox.recordAcceptedMany([
      {
        ...message,
        answer: {
          sid: `SM${randomBytes(16).toString('hex')}`,
          status: 'queued',
          errorCode: null,
          errorMessage: null,
        },
      },
    ]);

  /** A position before every event any transaction still open can commit. */
  const head = async (): Promise<string> => {
    const [{ xmin }] = await dataSource.query<{ xmin: string }[]>(
      'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin',
    );
    const position: EventLogPosition = {
      xid: (BigInt(xmin) - 1n).toString(),
      id: (2n ** 63n - 1n).toString(),
    };
    return encodeFeedCursor(position);
  };

  /** Every event the feed serves after `after`, `limit` per page, until a page is empty. */
  const readAll = async (after: string, limit: number) => {
    const seen: { id: string; messageId: string; cursor: string }[] = [];
    let cursor = after;
    for (let page = 0; page < 10_000; page += 1) {
      const { items, nextCursor } = await feed.page({ after: cursor, limit });
      for (const item of items) {
        seen.push({
          id: item.id,
          messageId: 'messageId' in item.data ? item.data.messageId : item.data.id,
          cursor: item.cursor,
        });
      }
      if (items.length === 0) {
        expect(nextCursor).toBe(cursor);
        return { seen, cursor };
      }
      cursor = nextCursor ?? cursor;
    }
    throw new Error('the feed never ended');
  };

  it('should never pass an event whose batch commits after a later id, and serve each once', async () => {
    const [first, second] = await claimedPair();
    const start = await head();
    const gate = await new DataSource(
      dataSourceOptions({ url: testDatabaseUrl(), poolSize: 1 }, []),
    ).initialize();
    const holder = gate.createQueryRunner();
    await holder.connect();
    let firstBatch: Promise<unknown> | undefined;
    try {
      await holder.query('SELECT pg_advisory_lock($1)', [GATE_KEY]);
      // Only this test's first message waits at COMMIT; every other writer passes.
      await dataSource.query(`
        CREATE OR REPLACE FUNCTION events_feed_test_gate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_advisory_xact_lock(${GATE_KEY}); RETURN NULL; END $$`);
      await dataSource.query(`
        CREATE CONSTRAINT TRIGGER events_feed_test_gate AFTER INSERT ON events
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
          WHEN (NEW.message_id = '${first.id}') EXECUTE FUNCTION events_feed_test_gate()`);

      // Batch 1 inserts its event (the lower id) and waits at COMMIT.
      firstBatch = answer(first);
      await waitUntil(async () => {
        const [{ n }] = await dataSource.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND datname = current_database()`,
        );
        return n > 0;
      });
      // Batch 2 inserts a later id and commits first.
      await answer(second);
      const ids = await dataSource.query<{ id: string; message_id: string }[]>(
        'SELECT id::text, message_id FROM events WHERE message_id = ANY($1)',
        [[first.id, second.id]],
      );
      expect(ids).toHaveLength(1);
      expect(ids[0].message_id).toBe(second.id);

      // Committed, yet not served: an earlier batch can still commit below it.
      const held = await readAll(start, 1);
      expect(held.seen.map((event) => event.messageId)).not.toContain(second.id);
      expect(await reader.lagSeconds()).toBeGreaterThan(0);

      await holder.query('SELECT pg_advisory_unlock($1)', [GATE_KEY]);
      await firstBatch;

      // Resuming where the client stopped, one event per page: both, once each, in commit order.
      const after = await readAll(held.cursor, 1);
      const ours = [...held.seen, ...after.seen].filter((event) =>
        [first.id, second.id].includes(event.messageId),
      );
      expect(ours.map((event) => event.messageId)).toEqual([first.id, second.id]);
      // The first batch's id is the lower one: it was inserted first.
      const [earlier, later] = ours.map((event) => BigInt(event.id.replace('evt_', '')));
      expect(earlier < later).toBe(true);
      const all = [...held.seen, ...after.seen].map((event) => event.id);
      expect(new Set(all).size).toBe(all.length);
    } finally {
      await dataSource.query('DROP TRIGGER IF EXISTS events_feed_test_gate ON events');
      await holder.query('SELECT pg_advisory_unlock_all()').catch(() => undefined);
      await firstBatch?.catch(() => undefined);
      await holder.release();
      await gate.destroy();
    }
  });

  it('should page in commit order with a type filter, and keep the place when a page is empty', async () => {
    const start = await head();
    const pair = await claimedPair();
    for (const message of pair) await answer(message);
    const everything = await readAll(start, 500);
    const ours = everything.seen.filter((event) =>
      pair.some((message) => message.id === event.messageId),
    );
    expect(ours.map((event) => event.messageId)).toEqual(pair.map((message) => message.id));
    // Pages of one give the same events in the same order as one page of all.
    const oneByOne = await readAll(start, 1);
    // (Events committed since can only come after: that is the point.)
    expect(oneByOne.seen.slice(0, everything.seen.length).map((event) => event.id)).toEqual(
      everything.seen.map((event) => event.id),
    );
    const inbound = await feed.page({ after: start, type: 'message.inbound', limit: 500 });
    expect(inbound.items.every((event) => event.type === 'message.inbound')).toBe(true);
    // An event's own cursor resumes right behind it.
    const resumed = await feed.page({ after: ours[0].cursor, limit: 500 });
    expect(resumed.nextCursor).toBe(resumed.items.at(-1)?.cursor);
    expect(resumed.items.map((event) => event.id)).toContain(ours[1].id);
    expect(resumed.items.map((event) => event.id)).not.toContain(ours[0].id);
    expect(decodeFeedCursor(ours[0].cursor)).toEqual({
      xid: expect.stringMatching(/^\d+$/),
      id: ours[0].id.replace('evt_', ''),
    });
  });

  it("should serve one message's events in sequence order even when the later one's batch got the lower xid", async () => {
    // Three messages, A < B < M by id: a batch locks them in that order.
    const ids = (
      await outbox.createPendingMany([
        outboundMessage(userId),
        outboundMessage(userId),
        outboundMessage(userId),
      ])
    ).sort();
    const claimed = await outbox.claimForSendMany(ids.map((id) => ({ id, staleMs: 30_000 })));
    const sids = new Map<string, string>();
    for (const message of claimed) {
      if (!message) throw new Error('not claimed');
      const sid = `SM${randomBytes(16).toString('hex')}`;
      sids.set(message.id, sid);
      await outbox.recordAcceptedMany([
        {
          id: message.id,
          attempt: message.attempt,
          answer: { sid, status: 'queued', errorCode: null, errorMessage: null },
        },
      ]);
    }
    const [a, b, m] = ids;
    const callback = (id: string, status: string): StatusEvent => ({
      messageId: id,
      twilioSid: sids.get(id),
      status,
      source: 'callback',
      idempotencyToken: randomUUID(),
    });
    const start = await head();
    const holder = dataSource.createQueryRunner();
    await holder.connect();
    let late: Promise<unknown> | undefined;
    try {
      // B held, so the late batch takes its transaction id on A, then waits.
      await holder.startTransaction();
      await holder.query('SELECT id FROM whatsapp_messages WHERE id = $1 FOR UPDATE', [b]);
      late = batches.record([callback(a, 'sent'), callback(b, 'sent'), callback(m, 'delivered')]);
      // (pg_stat_activity keeps the lock query's first 1 KB: match its start.)
      await waitUntil(async () => {
        const [{ n }] = await dataSource.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND backend_xid IS NOT NULL
              AND datname = current_database() AND query LIKE '%max_attempts AS%'`,
        );
        return n > 0;
      });
      // Meanwhile M moves on its own: sequence 2, under a higher transaction id.
      await batches.record([callback(m, 'sent')]);
      await holder.commitTransaction();
      await late;
    } finally {
      if (holder.isTransactionActive) await holder.rollbackTransaction();
      await holder.release();
      await late?.catch(() => undefined);
    }
    const rows = await dataSource.query<{ sequence: number; status: string; xid: string }[]>(
      'SELECT sequence, status, xid::text FROM events WHERE message_id = $1 ORDER BY sequence',
      [m],
    );
    expect(rows.map((row) => [row.sequence, row.status])).toEqual([
      [1, 'queued'],
      [2, 'sent'],
      [3, 'delivered'],
    ]);
    const served = (await readAll(start, 2)).seen.filter((event) => event.messageId === m);
    expect(served.map((event) => event.id)).toEqual(
      (
        await dataSource.query<{ id: string }[]>(
          'SELECT id::text FROM events WHERE message_id = $1 AND sequence > 1 ORDER BY sequence',
          [m],
        )
      ).map((row) => `evt_${row.id}`),
    );
  });

  it("should end the service's connections idle in a transaction", async () => {
    const [{ timeout }] = await dataSource.query<{ timeout: string }[]>(
      "SELECT current_setting('idle_in_transaction_session_timeout') AS timeout",
    );
    expect(timeout).toBe('15s');
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
