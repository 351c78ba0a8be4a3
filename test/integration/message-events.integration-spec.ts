import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import type { EventResult, StatusEvent } from '../../src/modules/delivery/delivery.types';
import { StatusBatchRepository } from '../../src/modules/delivery/status/status-batch.repository';
import { MessageWriter } from '../../src/modules/delivery/status/message-writer';
import {
  isFinal,
  notFinalSql,
  OUTBOUND_STATUSES,
} from '../../src/modules/delivery/status/status-machine';
import { OutboxRepository } from '../../src/modules/delivery/outbox/outbox.repository';
import { claimOne, insertSender, outboundMessage, recordOne } from '../support/outbox-fixtures';
import { testDatabaseUrl } from '../support/test-env';

describe('status events and the outbox claim on the real database', () => {
  let dataSource: DataSource;
  // The production writer, one event per batch (concurrent calls are concurrent batches).
  let events: { record(event: StatusEvent): Promise<EventResult> };
  let outbox: OutboxRepository;
  let userId: string;

  beforeAll(async () => {
    dataSource = await new DataSource(
      dataSourceOptions({ url: testDatabaseUrl(), poolSize: 20 }, []),
    ).initialize();
    const batches = new StatusBatchRepository(new MessageWriter(dataSource));
    events = { record: async (event) => (await batches.record([event]))[0] };
    outbox = new OutboxRepository(dataSource, new MessageWriter(dataSource));
    userId = await insertSender(dataSource, 'events');
  });

  afterAll(async () => {
    await dataSource.destroy();
  });

  /** The holder's claim is a minute old: it died, and the next claim may take the row over. */
  const holderDied = (id: string) =>
    dataSource.query(
      "UPDATE whatsapp_messages SET dispatch_started_at = now() - interval '1 minute' WHERE id = $1",
      [id],
    );

  const newMessage = () => outbox.createPending(outboundMessage(userId));

  const row = async (id: string) =>
    (
      await dataSource.query<Record<string, unknown>[]>(
        'SELECT * FROM whatsapp_messages WHERE id = $1',
        [id],
      )
    )[0];

  it('should move forward only, whatever order the events arrive in, setting every stage once', async () => {
    const id = await newMessage();
    const sid = `SM${randomUUID().replace(/-/g, '')}`;
    const at = (s: number) => new Date(Date.UTC(2026, 10, 27, 0, 0, s));
    expect(
      (
        await events.record({
          messageId: id,
          twilioSid: sid,
          status: 'read',
          source: 'callback',
          at: at(3),
        })
      ).outcome,
    ).toBe('applied');
    expect(
      (
        await events.record({
          messageId: id,
          twilioSid: sid,
          status: 'sent',
          source: 'callback',
          at: at(1),
        })
      ).outcome,
    ).toBe('logged');
    expect(
      (
        await events.record({
          messageId: id,
          twilioSid: sid,
          status: 'delivered',
          source: 'callback',
          at: at(2),
        })
      ).outcome,
    ).toBe('logged');
    const message = await row(id);
    expect(message).toMatchObject({ status: 'read', twilio_sid: sid });
    for (const stage of ['accepted_at', 'sent_at', 'delivered_at', 'read_at'])
      expect(message[stage]).toEqual(at(3));
  });

  it('should log a failure after delivery as an anomaly without applying it', async () => {
    const id = await newMessage();
    await events.record({ messageId: id, status: 'delivered', source: 'callback' });
    const result = await events.record({
      messageId: id,
      status: 'failed',
      errorCode: 30008,
      source: 'callback',
    });
    expect(result).toMatchObject({ outcome: 'logged', anomaly: true });
    expect(await row(id)).toMatchObject({ status: 'delivered', error_code: null, failed_at: null });
  });

  it('should count a repeated callback, with or without a token, as a duplicate that adds nothing', async () => {
    const id = await newMessage();
    const sid = `SM${randomUUID().replace(/-/g, '')}`;
    expect(
      (
        await events.record({
          messageId: id,
          twilioSid: sid,
          status: 'sent',
          source: 'callback',
          idempotencyToken: 't1',
        })
      ).outcome,
    ).toBe('applied');
    expect(
      (
        await events.record({
          messageId: id,
          twilioSid: sid,
          status: 'sent',
          source: 'callback',
          idempotencyToken: 't2',
        })
      ).outcome,
    ).toBe('duplicate');
    expect(
      (await events.record({ messageId: id, twilioSid: sid, status: 'sent', source: 'callback' }))
        .outcome,
    ).toBe('duplicate');
    expect(
      (
        await events.record({
          twilioSid: sid,
          status: 'delivered',
          source: 'callback',
          idempotencyToken: 't1',
        })
      ).outcome,
    ).toBe('duplicate');
    const [{ n }] = await dataSource.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM message_status_logs WHERE message_id = $1',
      [id],
    );
    expect(n).toBe(2); // pending (api) and sent
  });

  it('should apply exactly one of 50 concurrent identical events', async () => {
    const id = await newMessage();
    const sid = `SM${randomUUID().replace(/-/g, '')}`;
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        events
          .record({ messageId: id, twilioSid: sid, status: 'delivered', source: 'callback' })
          .catch((error: Error) => error),
      ),
    );
    const outcomes = results.map((result) => (result instanceof Error ? 'error' : result.outcome));
    expect(outcomes.filter((outcome) => outcome === 'applied')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(49);
  });

  it('should keep an event for an unknown message as an orphan, once', async () => {
    const sid = `SM${randomUUID().replace(/-/g, '')}`;
    expect(
      (await events.record({ twilioSid: sid, status: 'sent', source: 'callback' })).outcome,
    ).toBe('orphan');
    expect(
      (await events.record({ twilioSid: sid, status: 'sent', source: 'callback' })).outcome,
    ).toBe('duplicate');
  });

  it('should let exactly one of 20 concurrent workers claim a row', async () => {
    const id = await newMessage();
    const claims = await Promise.all(
      Array.from({ length: 20 }, () => claimOne(outbox, id, 30_000)),
    );
    const won = claims.filter((claim) => claim !== null);
    expect(won).toHaveLength(1);
    expect(won[0]).toMatchObject({ id, attempt: 1, uncertainSince: null });
    expect(await claimOne(outbox, id, 30_000)).toBeNull();
  });

  it("should hand a dead worker's row to the next claim, marked uncertain since the first attempt", async () => {
    const id = await newMessage();
    const first = await claimOne(outbox, id, 30_000);
    await holderDied(id);
    const second = await claimOne(outbox, id, 30_000);
    expect(first?.uncertainSince).toBeNull();
    expect(second).toMatchObject({ attempt: 2 });
    expect(second?.uncertainSince).toBeInstanceOf(Date);
  });

  it("should start the new holder's clock at a takeover, so no third worker takes it at once", async () => {
    const id = await newMessage();
    await claimOne(outbox, id, 30_000);
    await holderDied(id);
    const second = await claimOne(outbox, id, 30_000);
    expect(second?.uncertainSince).toBeInstanceOf(Date);
    expect(await claimOne(outbox, id, 30_000)).toBeNull();
  });

  it('should let only the holder move a row: a stale attempt can neither retry nor fail it', async () => {
    const id = await newMessage();
    await claimOne(outbox, id, 30_000);
    await holderDied(id);
    const second = await claimOne(outbox, id, 30_000);
    expect(second?.attempt).toBe(2);
    // The first attempt wakes up: its retry and its failure must not touch attempt 2's row.
    expect(
      await outbox.scheduleRetry(id, 1, {
        delayMs: 0,
        errorCode: null,
        errorMessage: 'timeout',
        uncertain: true,
      }),
    ).toBeNull();
    await outbox.recordSendFailure(id, 1, { errorCode: 21211, errorMessage: 'x', retryable: true });
    expect(
      await dataSource.query(
        'SELECT status, last_error_retryable FROM whatsapp_messages WHERE id = $1',
        [id],
      ),
    ).toEqual([{ status: 'dispatching', last_error_retryable: false }]);
    // Its late success leaves the SID (for the holder to adopt) but not the status or the clock.
    await recordOne(outbox, id, 1, {
      sid: `SM${'a'.repeat(32)}`,
      status: 'queued',
      errorCode: null,
      errorMessage: null,
    });
    const [row] = await dataSource.query<Record<string, unknown>[]>(
      'SELECT status, twilio_sid, dispatch_started_at FROM whatsapp_messages WHERE id = $1',
      [id],
    );
    expect(row).toMatchObject({ status: 'dispatching', twilio_sid: `SM${'a'.repeat(32)}` });
    expect(row.dispatch_started_at).not.toBeNull();
    expect(await outbox.sidTaken(`SM${'a'.repeat(32)}`, id)).toBe(false);
  });

  it('should keep the look-before-resending mark through a later, certain failure', async () => {
    const id = await newMessage();
    await claimOne(outbox, id, 30_000);
    await outbox.scheduleRetry(id, 1, {
      delayMs: 0,
      errorCode: 20500,
      errorMessage: '5xx',
      uncertain: true,
    });
    const second = await claimOne(outbox, id, 30_000);
    expect(second?.uncertainSince).toBeInstanceOf(Date);
    await outbox.scheduleRetry(id, 2, {
      delayMs: 0,
      errorCode: null,
      errorMessage: 'refused',
      uncertain: false,
    });
    const third = await claimOne(outbox, id, 30_000);
    expect(third?.uncertainSince).toEqual(second?.uncertainSince);
  });

  it('should decide finality in SQL exactly as isFinal does, for every status and sent age', async () => {
    const cases = OUTBOUND_STATUSES.flatMap((status) =>
      [null, 1, 73].map((hoursAgo) => ({
        status,
        sentAt: hoursAgo === null ? null : new Date(Date.now() - hoursAgo * 3600_000),
      })),
    );
    const ids: string[] = [];
    for (const { status, sentAt } of cases) {
      const [row] = await dataSource.query<{ id: string }[]>(
        `INSERT INTO whatsapp_messages (direction, "to", status, sent_at, attempts, max_attempts)
         VALUES ('outbound', 'whatsapp:+14155550100', $1, $2, 0, 8) RETURNING id`,
        [status, sentAt],
      );
      ids.push(row.id);
    }
    const open = await dataSource.query<{ id: string }[]>(
      `SELECT id FROM whatsapp_messages WHERE id = ANY($1) AND ${notFinalSql()}`,
      [ids],
    );
    const openIds = new Set(open.map((row) => row.id));
    cases.forEach(({ status, sentAt }, index) => {
      expect({ status, sentAt, final: !openIds.has(ids[index]) }).toEqual({
        status,
        sentAt,
        final: isFinal(status, sentAt),
      });
    });
  });
});
