import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { InboundRepository } from '../../src/modules/delivery/inbound/inbound.repository';
import { OutboxRepository } from '../../src/modules/delivery/outbox/outbox.repository';
import { MessageWriter } from '../../src/modules/delivery/status/message-writer';
import { StatusBatchRepository } from '../../src/modules/delivery/status/status-batch.repository';
import type {
  ClaimedMessage,
  MoveResult,
  NewOutboundMessage,
  TwilioAnswer,
} from '../../src/modules/delivery/delivery.types';

/** A sender user straight in the database, for tests that write messages without the API. */
export async function insertSender(dataSource: DataSource, prefix: string): Promise<string> {
  const [user] = await dataSource.query<{ id: string }[]>(
    `INSERT INTO users (email, password_hash, role) VALUES ($1, 'x', 'sender') RETURNING id`,
    [`${prefix}-${randomUUID()}@example.com`],
  );
  return user.id;
}

/** A text send as the API would accept it; `overrides` change any field. */
export function outboundMessage(
  createdBy: string,
  overrides: Partial<NewOutboundMessage> = {},
): NewOutboundMessage {
  return {
    from: 'whatsapp:+14155238886',
    to: 'whatsapp:+14155550100',
    body: 'x',
    contentSid: null,
    contentVariables: null,
    mediaUrls: [],
    reference: null,
    metadata: null,
    createdBy,
    idempotencyKey: null,
    maxAttempts: 8,
    ...overrides,
  };
}

/** One claim on its own: a batch of one, as a job whose claim found nobody to share with. */
export async function claimOne(
  outbox: OutboxRepository,
  id: string,
  staleMs: number,
): Promise<ClaimedMessage | null> {
  const [claimed] = await outbox.claimForSendMany([{ id, staleMs }]);
  return claimed;
}

/** One answer from Twilio on its own: a batch of one. */
export async function recordOne(
  outbox: OutboxRepository,
  id: string,
  attempt: number,
  answer: TwilioAnswer,
): Promise<MoveResult> {
  const [result] = await outbox.recordAcceptedMany([{ id, attempt, answer }]);
  return result;
}

/** The production writers on their own data source, as the delivery module wires them. */
export async function openWriters(url: string, poolSize = 4) {
  const dataSource = await new DataSource(dataSourceOptions({ url, poolSize }, [])).initialize();
  const writer = new MessageWriter(dataSource);
  return {
    dataSource,
    outbox: new OutboxRepository(dataSource, writer),
    batches: new StatusBatchRepository(writer),
    inbound: new InboundRepository(dataSource),
  };
}
