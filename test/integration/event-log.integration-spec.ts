import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { StatusEvent } from '../../src/modules/delivery/delivery.types';
import type { InboundRepository } from '../../src/modules/delivery/inbound/inbound.repository';
import type { OutboxRepository } from '../../src/modules/delivery/outbox/outbox.repository';
import type { StatusBatchRepository } from '../../src/modules/delivery/status/status-batch.repository';
import { inboundMessage, newPhone } from '../factories/inbound.factory';
import { insertSender, openWriters, outboundMessage } from '../support/outbox-fixtures';
import { testDatabaseUrl } from '../support/test-env';

// The event log: every applied status change and every new inbound message is one event row,
// written in the same statement as the change, numbered per message from 1; claims, retries
// later, repeats and changes not applied write none.

describe('the event log on the real database', () => {
  let dataSource: DataSource;
  let outbox: OutboxRepository;
  let batches: StatusBatchRepository;
  let inbound: InboundRepository;
  let userId: string;

  beforeAll(async () => {
    ({ dataSource, outbox, batches, inbound } = await openWriters(testDatabaseUrl()));
    userId = await insertSender(dataSource, 'event-log');
  });

  afterAll(async () => {
    await dataSource.destroy();
  });

  const events = (messageId: string) =>
    dataSource.query<
      { type: string; sequence: number; previous: string | null; status: string; code: number }[]
    >(
      `SELECT type, sequence, previous_status AS previous, status, error_code AS code
         FROM events WHERE message_id = $1 ORDER BY sequence`,
      [messageId],
    );

  const callback = (id: string, sid: string, status: string): StatusEvent => ({
    messageId: id,
    twilioSid: sid,
    status,
    source: 'callback',
    idempotencyToken: randomUUID(),
  });

  it('should record one event per applied change, in sequence order, none for late or repeated callbacks', async () => {
    const [id] = await outbox.createPendingMany([outboundMessage(userId)]);
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const [claimed] = await outbox.claimForSendMany([{ id, staleMs: 30_000 }]);
    await outbox.recordAcceptedMany([
      {
        id,
        attempt: claimed?.attempt ?? 0,
        answer: { sid, status: 'queued', errorCode: null, errorMessage: null },
      },
    ]);
    // Twilio's callbacks, shuffled and repeated: `sent` and `delivered` together in one batch,
    // then a late `sent`, `read`, a repeated `read` and a late `delivered`, each alone.
    await batches.record([callback(id, sid, 'delivered'), callback(id, sid, 'sent')]);
    for (const status of ['sent', 'read', 'read', 'delivered']) {
      await batches.record([callback(id, sid, status)]);
    }
    expect(await events(id)).toEqual([
      { type: 'message.status', sequence: 1, previous: 'pending', status: 'queued', code: null },
      { type: 'message.status', sequence: 2, previous: 'queued', status: 'sent', code: null },
      { type: 'message.status', sequence: 3, previous: 'sent', status: 'delivered', code: null },
      { type: 'message.status', sequence: 4, previous: 'delivered', status: 'read', code: null },
    ]);
    const [{ event_sequence: sequence }] = await dataSource.query<{ event_sequence: number }[]>(
      'SELECT event_sequence FROM whatsapp_messages WHERE id = $1',
      [id],
    );
    expect(sequence).toBe(4);
  });

  it('should record a failure and an admin retry, and nothing for claims and retries later', async () => {
    const [id] = await outbox.createPendingMany([outboundMessage(userId)]);
    const claim = async () =>
      (await outbox.claimForSendMany([{ id, staleMs: 30_000 }]))[0]?.attempt ?? 0;
    const first = await claim();
    await outbox.scheduleRetry(id, first, {
      delayMs: 0,
      errorCode: 20429,
      errorMessage: 'Too Many Requests',
      uncertain: false,
    });
    const second = await claim();
    await outbox.recordSendFailure(id, second, {
      errorCode: 20429,
      errorMessage: 'Too Many Requests',
      retryable: true,
    });
    expect(await outbox.retryFailed(id, 2)).toBe(2);
    const third = await claim();
    await outbox.recordAcceptedMany([
      {
        id,
        attempt: third,
        answer: {
          sid: `SM${randomBytes(16).toString('hex')}`,
          status: 'accepted',
          errorCode: null,
          errorMessage: null,
        },
      },
    ]);
    expect(await events(id)).toEqual([
      { type: 'message.status', sequence: 1, previous: 'pending', status: 'failed', code: 20429 },
      { type: 'message.status', sequence: 2, previous: 'failed', status: 'pending', code: null },
      { type: 'message.status', sequence: 3, previous: 'pending', status: 'accepted', code: null },
    ]);
  });

  it('should record one message.inbound per new inbound message, none for a repeat', async () => {
    const message = inboundMessage(newPhone(), { body: 'hi' });
    const at = new Date();
    expect(
      await inbound.recordMany([
        { message, at },
        { message, at },
      ]),
    ).toEqual(['stored', 'duplicate']);
    expect(await inbound.recordMany([{ message, at }])).toEqual(['duplicate']);
    const [{ id }] = await dataSource.query<{ id: string }[]>(
      'SELECT id FROM whatsapp_messages WHERE twilio_sid = $1',
      [message.twilioSid],
    );
    expect(await events(id)).toEqual([
      { type: 'message.inbound', sequence: 1, previous: null, status: 'received', code: null },
    ]);
  });
});
