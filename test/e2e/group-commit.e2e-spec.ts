import { randomBytes } from 'node:crypto';
import { InboundRepository } from '../../src/modules/delivery/inbound/inbound.repository';
import { IdempotencyRepository } from '../../src/modules/messaging/idempotency.repository';
import { OutboxRepository } from '../../src/modules/delivery/outbox/outbox.repository';
import { StatusBatchRepository } from '../../src/modules/delivery/status/status-batch.repository';
import type { FormParams } from '../../src/simulator/twilio-signature';
import { Stack } from '../support/stack';

// Group commit through HTTP: requests that arrive together share a transaction, and each is
// answered only after its own row committed. When one batch's transaction fails, exactly the
// requests in that batch get 503 (and nothing of theirs is stored); every other request of the
// same burst gets 200 with its row committed, and a retry of a 503 is applied.

const STATUS = '/api/v1/whatsapp/status';
const INBOUND = '/api/v1/whatsapp/webhook';
const BURST = 40;
/** What a dropped connection looks like to the app: a 503 with Retry-After, not a 500. */
const lost = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

const newSid = (prefix = 'SM') => `${prefix}${randomBytes(16).toString('hex')}`;

function statusParams(sid: string, status: string): FormParams {
  return {
    AccountSid: `AC${'1'.repeat(32)}`,
    ApiVersion: '2010-04-01',
    From: 'whatsapp:+14155238886',
    MessageSid: sid,
    MessageStatus: status,
    To: 'whatsapp:+14155550100',
  };
}

/**
 * One batch failed and it was not all of them; and requests that arrived together shared a
 * transaction (else the test proves nothing of batches).
 */
function expectOneBatchFailedAmongOthers(seam: { sizes: number[] }, failed: number): void {
  expect(failed).toBeGreaterThanOrEqual(1);
  expect(Math.max(...seam.sizes)).toBeGreaterThan(1);
  expect(failed).toBeLessThan(BURST);
}

/** Runs the first half of `requests`, then (once a batch is being written) the second half. */
async function inTwoWaves<T>(
  seam: { failed: unknown[] },
  requests: (() => Promise<T>)[],
): Promise<T[]> {
  const first = requests.slice(0, BURST / 2).map((request) => request());
  while (seam.failed.length === 0) await new Promise((resolve) => setImmediate(resolve));
  const second = requests.slice(BURST / 2).map((request) => request());
  return Promise.all([...first, ...second]);
}

/**
 * Fails the first batch `method` is given that holds an item `marks` picks; the items it held,
 * and the size of every batch written meanwhile.
 */
function failOneBatch<I>(
  target: { [name: string]: unknown },
  method: string,
  marks: (item: I) => boolean,
): { failed: I[]; sizes: number[]; restore: () => void } {
  const original = target[method] as (items: readonly I[]) => Promise<unknown>;
  const failed: I[] = [];
  const sizes: number[] = [];
  target[method] = function (this: unknown, items: readonly I[]) {
    sizes.push(items.length);
    if (failed.length === 0 && items.some(marks)) {
      failed.push(...items);
      return Promise.reject(lost());
    }
    return original.call(this, items);
  };
  return { failed, sizes, restore: () => (target[method] = original) };
}

describe('group commit through HTTP', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await Stack.start({ WINDOW_CHECK: 'off', WEBHOOK_UNSIGNED_LIMIT: '1000' });
  });

  afterAll(async () => {
    await stack.close();
  });

  it('should answer 503 to exactly the status callbacks whose batch failed, and 200 after commit to the rest', async () => {
    const sids = Array.from({ length: BURST }, () => newSid());
    const rows: { id: string; twilio_sid: string }[] = [];
    for (const sid of sids) {
      const [row] = await stack.db.query<{ id: string; twilio_sid: string }[]>(
        `INSERT INTO whatsapp_messages (direction, twilio_sid, "to", body, status, attempts, max_attempts, created_by)
         VALUES ('outbound', $1, 'whatsapp:+14155550100', 'x', 'accepted', 1, 8, $2) RETURNING id, twilio_sid`,
        [sid, stack.sender.id],
      );
      rows.push(row);
    }
    const repository = stack.app.get<StatusBatchRepository, Record<string, unknown>>(
      StatusBatchRepository,
    );
    const seam = failOneBatch<{ twilioSid?: string }>(
      repository,
      'record',
      (event) => event.twilioSid === sids[0],
    );
    let answers;
    try {
      answers = await inTwoWaves(
        seam,
        rows.map(
          (row) => () =>
            stack.signedPost(`${STATUS}?mid=${row.id}`, statusParams(row.twilio_sid, 'delivered')),
        ),
      );
    } finally {
      seam.restore();
    }
    const failedSids = new Set(seam.failed.map((event) => event.twilioSid));
    expectOneBatchFailedAmongOthers(seam, failedSids.size);
    for (const [index, answer] of answers.entries()) {
      const row = await stack.row(rows[index].id);
      const logs = await stack.db.query<unknown[]>(
        `SELECT 1 FROM message_status_logs WHERE message_id = $1 AND status = 'delivered'`,
        [rows[index].id],
      );
      if (failedSids.has(sids[index])) {
        expect(answer.statusCode).toBe(503);
        expect(answer.headers['retry-after']).toBeDefined();
        expect(row.status).toBe('accepted');
        expect(logs).toHaveLength(0);
      } else {
        expect(answer.statusCode).toBe(200);
        expect(row.status).toBe('delivered');
        expect(logs).toHaveLength(1);
      }
    }
    // Twilio retries a 503: applied now.
    for (const [index, row] of rows.entries()) {
      if (!failedSids.has(sids[index])) continue;
      const retry = await stack.signedPost(
        `${STATUS}?mid=${row.id}`,
        statusParams(row.twilio_sid, 'delivered'),
      );
      expect(retry.statusCode).toBe(200);
      expect((await stack.row(row.id)).status).toBe('delivered');
    }
  });

  it('should answer 503 to exactly the inbound messages whose batch failed, and store the rest once', async () => {
    const sids = Array.from({ length: BURST }, () => newSid('SM'));
    const params = sids.map((sid, index) => ({
      AccountSid: `AC${'1'.repeat(32)}`,
      Body: `hello ${index}`,
      From: `whatsapp:+1415${String(5_000_000 + index).padStart(7, '0')}`,
      MessageSid: sid,
      NumMedia: '0',
      To: 'whatsapp:+14155238886',
    }));
    const repository = stack.app.get<InboundRepository, Record<string, unknown>>(InboundRepository);
    const seam = failOneBatch<{ message: { twilioSid: string } }>(
      repository,
      'recordMany',
      (item) => item.message.twilioSid === sids[0],
    );
    let answers;
    try {
      answers = await inTwoWaves(
        seam,
        params.map((form) => () => stack.signedPost(INBOUND, form)),
      );
    } finally {
      seam.restore();
    }
    const failedSids = new Set(seam.failed.map((item) => item.message.twilioSid));
    expectOneBatchFailedAmongOthers(seam, failedSids.size);
    const stored = await stack.db.query<{ twilio_sid: string }[]>(
      `SELECT twilio_sid FROM whatsapp_messages WHERE twilio_sid = ANY($1)`,
      [sids],
    );
    const storedSids = new Set(stored.map((row) => row.twilio_sid));
    for (const [index, answer] of answers.entries()) {
      expect(answer.statusCode).toBe(failedSids.has(sids[index]) ? 503 : 200);
      expect(storedSids.has(sids[index])).toBe(!failedSids.has(sids[index]));
    }
    for (const [index, form] of params.entries()) {
      if (failedSids.has(sids[index])) {
        expect((await stack.signedPost(INBOUND, form)).statusCode).toBe(200);
      }
    }
    const [{ n }] = await stack.db.query<{ n: string }[]>(
      `SELECT count(*) AS n FROM whatsapp_messages WHERE twilio_sid = ANY($1)`,
      [sids],
    );
    expect(Number(n)).toBe(BURST);
  });

  it('should answer 503 to exactly the sends whose batch failed, and 202 after commit to the rest', async () => {
    const repository = stack.app.get<OutboxRepository, Record<string, unknown>>(OutboxRepository);
    const marker = `gc-${randomBytes(4).toString('hex')}`;
    const seam = failOneBatch<{ reference: string | null }>(
      repository,
      'createPendingMany',
      (message) => message.reference === `${marker}-0`,
    );
    let answers;
    try {
      answers = await inTwoWaves(
        seam,
        Array.from(
          { length: BURST },
          (_unused, index) => () =>
            stack.send({
              to: `+1415${String(6_000_000 + index).padStart(7, '0')}`,
              message: 'hi',
              reference: `${marker}-${index}`,
            }),
        ),
      );
    } finally {
      seam.restore();
    }
    const failedRefs = new Set(seam.failed.map((message) => message.reference));
    expectOneBatchFailedAmongOthers(seam, failedRefs.size);
    for (const [index, answer] of answers.entries()) {
      const reference = `${marker}-${index}`;
      const rows = await stack.db.query<{ id: string }[]>(
        'SELECT id FROM whatsapp_messages WHERE reference = $1',
        [reference],
      );
      if (failedRefs.has(reference)) {
        expect(answer.statusCode).toBe(503);
        expect(rows).toHaveLength(0);
      } else {
        expect(answer.statusCode).toBe(202);
        expect(rows.map((row) => row.id)).toEqual([answer.json<{ id: string }>().id]);
      }
    }
    await stack.settle();
  });

  it('should answer 503, not 500, to a send with an Idempotency-Key while the database is unreachable', async () => {
    const idempotency = stack.app.get<IdempotencyRepository, Record<string, unknown>>(
      IdempotencyRepository,
    );
    const claim = idempotency.claim;
    idempotency.claim = () => Promise.reject(lost());
    try {
      const answer = await stack.send(
        { to: '+14155550100', message: 'hi' },
        { idempotencyKey: 'k-down-1' },
      );
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    } finally {
      idempotency.claim = claim;
    }
    // The claim works, the insert cannot connect, and releasing the key fails too: still 503.
    const outbox = stack.app.get<OutboxRepository, Record<string, unknown>>(OutboxRepository);
    const createPending = outbox.createPending;
    const release = idempotency.release;
    outbox.createPending = () => Promise.reject(lost());
    idempotency.release = () => Promise.reject(lost());
    try {
      const answer = await stack.send(
        { to: '+14155550100', message: 'hi' },
        { idempotencyKey: 'k-down-2' },
      );
      expect(answer.statusCode).toBe(503);
    } finally {
      outbox.createPending = createPending;
      idempotency.release = release;
    }
  });
});
