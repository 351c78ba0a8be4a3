import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import * as fc from 'fast-check';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../src/config/app-config';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { WorkerBatcher } from '../../src/modules/delivery/outbox/worker-batcher';
import { MessageWriter } from '../../src/modules/delivery/status/message-writer';
import { OutboxRepository } from '../../src/modules/delivery/outbox/outbox.repository';
import {
  decideTransition,
  isFailure,
  stagesProvedBy,
  type StageColumn,
} from '../../src/modules/delivery/status/status-machine';
import { claimOne, insertSender, outboundMessage, recordOne } from '../support/outbox-fixtures';
import { testDatabaseUrl } from '../support/test-env';
import type { ClaimedMessage, TwilioAnswer } from '../../src/modules/delivery/delivery.types';

// The worker's claims and Twilio's answers are grouped across jobs. That must not change what
// happens: a batch gives exactly the results and rows of the same calls made one at a time in
// order — a message claimed twice in one batch (a duplicate job), an answer from a stale attempt
// beside the holder's, answers the state machine refuses, rows already final. Both are held to
// a model written here from the rules (the state machine's decideTransition and the holder
// rule), not to the SQL itself; then to interleavings with a concurrent takeover or callback,
// and to a batch that one locked row would sink.

const STALE_MS = 30_000;
const CONFIG = { sending: { dispatchStaleMs: STALE_MS } } as AppConfig;

/** Where a message starts: its status, attempts, and whether its holder is alive. */
const start = fc.record({
  status: fc.constantFrom('pending', 'dispatching', 'queued', 'delivered', 'failed'),
  attempts: fc.integer({ min: 0, max: 2 }),
  holderDied: fc.boolean(),
  uncertain: fc.boolean(),
  backoffUntil: fc.constantFrom(null, -60_000, 500, 60_000),
});
type Start = {
  status: string;
  attempts: number;
  holderDied: boolean;
  uncertain: boolean;
  /** next_attempt_at, in ms from now: a retry's backoff (ended, nearly ended, or running). */
  backoffUntil: number | null;
};

const claim = fc.integer({ min: 0, max: 3 });
const answer = fc.record({
  message: fc.integer({ min: 0, max: 3 }),
  attempt: fc.integer({ min: 1, max: 4 }),
  status: fc.constantFrom('queued', 'accepted', 'sent', 'failed', 'undelivered', 'whatever'),
  sidVariant: fc.integer({ min: 0, max: 1 }),
});
type Answer = { message: number; attempt: number; status: string; sidVariant: number };

/** What a message row and its log rows are, as far as these moves go. */
interface ModelRow {
  status: string;
  attempts: number;
  sid: string | null;
  errorCode: number | null;
  errorMessage: string | null;
  retryable: boolean;
  /** dispatch_started_at: none, recent (a live holder) or a minute old (a dead one). */
  started: 'fresh' | 'old' | null;
  uncertain: boolean;
  /** next_attempt_at is more than the allowed clock skew (1 s) ahead: the backoff runs. */
  backingOff: boolean;
  stages: StageColumn[];
  logs: ModelLog[];
}
interface ModelLog {
  status: string;
  source: string;
  applied: boolean;
  attempt: number;
  sid: string | null;
  errorCode: number | null;
}

function modelOf(s: Start): ModelRow {
  return {
    status: s.status,
    attempts: s.attempts,
    sid: null,
    errorCode: null,
    errorMessage: null,
    retryable: false,
    started: s.status === 'dispatching' ? (s.holderDied ? 'old' : 'fresh') : null,
    uncertain: s.uncertain,
    backingOff: s.backoffUntil !== null && s.backoffUntil > 1_000,
    stages: [],
    logs: [
      { status: 'pending', source: 'api', applied: true, attempt: 0, sid: null, errorCode: null },
    ],
  };
}

/** A worker's log row is keyed by (attempt, status, error code): a repeat adds nothing. */
function addLog(row: ModelRow, log: ModelLog): void {
  const taken = row.logs.some(
    (other) =>
      other.attempt === log.attempt &&
      other.status === log.status &&
      (other.errorCode ?? 0) === (log.errorCode ?? 0),
  );
  if (!taken) row.logs.push(log);
}

/**
 * The claim rule: a `pending` row whose backoff has ended (give or take the clock skew), or a
 * `dispatching` one whose holder died, goes to the caller.
 */
function modelClaim(row: ModelRow): { attempts: number; uncertain: boolean } | null {
  const takeover = row.status === 'dispatching' && row.started === 'old';
  const due = row.status === 'pending' && !row.backingOff;
  if (!due && !takeover) return null;
  row.backingOff = false;
  row.status = 'dispatching';
  row.attempts += 1;
  row.started = 'fresh';
  // A dead holder may have reached Twilio: its start becomes the look-before-resending mark.
  row.uncertain = row.uncertain || takeover;
  addLog(row, {
    status: 'dispatching',
    source: 'worker',
    applied: true,
    attempt: row.attempts,
    sid: null,
    errorCode: null,
  });
  return { attempts: row.attempts, uncertain: row.uncertain };
}

/**
 * The answer rule: only the attempt holding the row moves it, and only forward (the state
 * machine); a stale attempt leaves just its SID; the holder's clock and marks are cleared.
 */
function modelAnswer(row: ModelRow, attempt: number, given: TwilioAnswer): boolean {
  const holds = row.attempts === attempt;
  const applies = holds && decideTransition(row.status, given.status).applies;
  row.sid ??= given.sid;
  if (applies) {
    row.status = given.status;
    const failure = isFailure(given.status);
    row.errorCode = failure ? given.errorCode : null;
    row.errorMessage = failure ? given.errorMessage : null;
    for (const stage of stagesProvedBy(given.status)) {
      if (!row.stages.includes(stage)) row.stages.push(stage);
    }
  }
  if (holds) {
    row.started = null;
    row.uncertain = false;
    row.retryable = false;
  }
  addLog(row, {
    status: given.status,
    source: 'worker',
    applied: applies,
    attempt,
    sid: given.sid,
    errorCode: given.errorCode,
  });
  return applies;
}

describe("the worker's grouped claims and answers on the real database", () => {
  let dataSource: DataSource;
  let outbox: OutboxRepository;
  let userId: string;

  beforeAll(async () => {
    dataSource = await new DataSource(
      dataSourceOptions({ url: testDatabaseUrl(), poolSize: 6 }, []),
    ).initialize();
    outbox = new OutboxRepository(dataSource, new MessageWriter(dataSource));
    userId = await insertSender(dataSource, 'worker-batch');
    Logger.overrideLogger(false);
  });

  afterAll(async () => {
    await dataSource.destroy();
  });

  const newMessage = () => outbox.createPending(outboundMessage(userId));

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
                uncertain_since = CASE WHEN $5 THEN now() - interval '2 minutes' END,
                next_attempt_at = now() + $6 * interval '1 millisecond'
          WHERE id = $1`,
        [id, s.status, s.attempts, s.holderDied, s.uncertain, s.backoffUntil],
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
      /** The rows in the model's terms: slots instead of ids, the SIDs' own last two characters. */
      async state(): Promise<Omit<ModelRow, never>[]> {
        const messages = await dataSource.query<Record<string, unknown>[]>(
          `SELECT id, status, attempts, right(twilio_sid, 2) AS sid, error_code, error_message,
                  last_error_retryable,
                  CASE WHEN dispatch_started_at IS NULL THEN NULL
                       WHEN dispatch_started_at < now() - interval '30 seconds' THEN 'old'
                       ELSE 'fresh' END AS started,
                  uncertain_since IS NOT NULL AS uncertain,
                  COALESCE(next_attempt_at > now() + interval '1 second', false) AS backing_off,
                  array_remove(ARRAY[
                    CASE WHEN accepted_at IS NOT NULL THEN 'accepted_at' END,
                    CASE WHEN sent_at IS NOT NULL THEN 'sent_at' END,
                    CASE WHEN delivered_at IS NOT NULL THEN 'delivered_at' END,
                    CASE WHEN read_at IS NOT NULL THEN 'read_at' END,
                    CASE WHEN failed_at IS NOT NULL THEN 'failed_at' END], NULL) AS stages
             FROM whatsapp_messages WHERE id = ANY($1)`,
          [ids],
        );
        const logs = await dataSource.query<Record<string, unknown>[]>(
          `SELECT message_id, status, source, applied, attempt, right(twilio_sid, 2) AS sid,
                  error_code
             FROM message_status_logs WHERE message_id = ANY($1)`,
          [ids],
        );
        return ids.map((id) => {
          const m = messages.find((row) => row.id === id) as Record<string, unknown>;
          return {
            status: m.status as string,
            attempts: m.attempts as number,
            sid: m.sid as string | null,
            errorCode: m.error_code as number | null,
            errorMessage: m.error_message as string | null,
            retryable: m.last_error_retryable as boolean,
            started: m.started as ModelRow['started'],
            uncertain: m.uncertain as boolean,
            backingOff: m.backing_off as boolean,
            stages: [...(m.stages as StageColumn[])].sort(),
            logs: sortedLogs(
              logs
                .filter((log) => log.message_id === id)
                .map((log) => ({
                  status: log.status as string,
                  source: log.source as string,
                  applied: log.applied as boolean,
                  attempt: log.attempt as number,
                  sid: log.sid as string | null,
                  errorCode: log.error_code as number | null,
                })),
            ),
          };
        });
      },
      /** The event log: per message slot, its events in sequence order (times left out). */
      async events(): Promise<string[]> {
        const rows = await dataSource.query<{ entry: string }[]>(
          `SELECT concat_ws('/', array_position($1, message_id), sequence, previous_status, status,
                            error_code) AS entry
             FROM events WHERE message_id = ANY($1) ORDER BY 1`,
          [ids],
        );
        return rows.map((row) => row.entry);
      },
      claimed(result: ClaimedMessage | null) {
        return result === null
          ? null
          : {
              slot: slot(result.id),
              attempts: result.attempt,
              uncertain: result.uncertainSince !== null,
            };
      },
    };
  }

  const sortedLogs = (logs: ModelLog[]) =>
    [...logs].sort((a, b) =>
      `${a.attempt}|${a.status}|${a.source}`.localeCompare(`${b.attempt}|${b.status}|${b.source}`),
    );
  const normalized = (rows: ModelRow[]) =>
    rows.map((row) => ({
      ...row,
      sid: row.sid === null ? null : row.sid.slice(-2),
      stages: [...row.stages].sort(),
      logs: sortedLogs(row.logs.map((log) => ({ ...log, sid: log.sid?.slice(-2) ?? null }))),
    }));

  it('should claim and then record answers as the rules say, in a batch and one at a time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(start, { minLength: 4, maxLength: 4 }),
        fc.array(claim, { minLength: 1, maxLength: 10 }),
        fc.array(answer, { minLength: 1, maxLength: 10 }),
        async (starts, claims, answers) => {
          const batched = await world(starts);
          const single = await world(starts);
          const model = starts.map(modelOf);

          // Claims: one batch, the same claims one at a time, and the model in order.
          const batchClaims = await outbox.claimForSendMany(
            claims.map((index) => ({ id: batched.ids[index], staleMs: STALE_MS })),
          );
          const singleClaims: (ClaimedMessage | null)[] = [];
          for (const index of claims) {
            singleClaims.push(await claimOne(outbox, single.ids[index], STALE_MS));
          }
          const modelClaims = claims.map((index) => {
            const result = modelClaim(model[index]);
            return result && { slot: index, ...result };
          });
          expect(batchClaims.map((result) => batched.claimed(result))).toEqual(modelClaims);
          expect(singleClaims.map((result) => single.claimed(result))).toEqual(modelClaims);
          expect(await batched.state()).toEqual(normalized(model));
          expect(await single.state()).toEqual(normalized(model));

          // Then Twilio's answers, some from attempts that no longer hold their row.
          const batchAnswers = await outbox.recordAcceptedMany(answers.map(batched.answer));
          const singleAnswers = [];
          for (const a of answers) {
            const { id, attempt, answer: given } = single.answer(a);
            singleAnswers.push(await recordOne(outbox, id, attempt, given));
          }
          const modelAnswers = answers.map((a) => {
            const { attempt, answer: given } = batched.answer(a);
            return modelAnswer(model[a.message], attempt, given);
          });
          // An applied answer comes with the message's stage times (for the latency metrics).
          const applied = (results: { applied: boolean; stages?: object }[]) =>
            results.map((result) => ({ applied: result.applied, stages: 'stages' in result }));
          const expected = modelAnswers.map((applies) => ({ applied: applies, stages: applies }));
          expect(applied(batchAnswers)).toEqual(expected);
          expect(applied(singleAnswers)).toEqual(expected);
          expect(await batched.state()).toEqual(normalized(model));
          expect(await single.state()).toEqual(normalized(model));
          // Claims emit no event; each applied answer exactly one, batch or not.
          const log = await batched.events();
          expect(log).toEqual(await single.events());
          expect(log).toHaveLength(modelAnswers.filter(Boolean).length);
        },
      ),
      { numRuns: 50, seed: 20261201 },
    );
  });

  /** Waits until some statement on this database waits for a row lock. */
  async function someoneWaitsForALock(): Promise<void> {
    for (let i = 0; i < 400; i += 1) {
      const [{ n }] = await dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (n > 0) return;
      await sleep(5);
    }
    throw new Error('no statement ever waited for the lock');
  }

  /** Runs `move` on a connection of its own, uncommitted until the returned function commits it. */
  async function uncommitted(sql: string, parameters: unknown[]): Promise<() => Promise<void>> {
    const other = dataSource.createQueryRunner();
    await other.connect();
    await other.startTransaction();
    await other.query(sql, parameters);
    return async () => {
      await other.commitTransaction();
      await other.release();
    };
  }

  const queued = (): TwilioAnswer => ({
    sid: `SM${randomBytes(16).toString('hex')}`,
    status: 'queued',
    errorCode: null,
    errorMessage: null,
  });

  it("should not let a stale attempt's answer move a row taken over while it waited", async () => {
    const id = await newMessage();
    await claimOne(outbox, id, STALE_MS);
    // Attempt 2 takes the row over and is committing while attempt 1's answer arrives.
    const commit = await uncommitted(
      `UPDATE whatsapp_messages SET attempts = 2, dispatch_started_at = now(),
              uncertain_since = now() - interval '1 minute' WHERE id = $1`,
      [id],
    );
    const late = queued();
    const answered = recordOne(outbox, id, 1, late);
    await someoneWaitsForALock();
    await commit();
    expect(await answered).toEqual({ applied: false });
    const [row] = await dataSource.query<Record<string, unknown>[]>(
      `SELECT status, attempts, twilio_sid, dispatch_started_at IS NOT NULL AS held,
              uncertain_since IS NOT NULL AS uncertain
         FROM whatsapp_messages WHERE id = $1`,
      [id],
    );
    // Only its SID stays, for the holder's look-up to adopt; the holder's clock and mark stay.
    expect(row).toEqual({
      status: 'dispatching',
      attempts: 2,
      twilio_sid: late.sid,
      held: true,
      uncertain: true,
    });
  });

  it('should not move a row back when a callback moved it on while the answer waited', async () => {
    const id = await newMessage();
    await claimOne(outbox, id, STALE_MS);
    const commit = await uncommitted(
      `UPDATE whatsapp_messages SET status = 'delivered', delivered_at = now() WHERE id = $1`,
      [id],
    );
    const answered = recordOne(outbox, id, 1, queued());
    await someoneWaitsForALock();
    await commit();
    expect(await answered).toEqual({ applied: false });
    const [row] = await dataSource.query<Record<string, unknown>[]>(
      `SELECT status, dispatch_started_at IS NULL AS released FROM whatsapp_messages WHERE id = $1`,
      [id],
    );
    expect(row).toEqual({ status: 'delivered', released: true });
  });

  it('should give a claim to exactly one of two batches that race for it', async () => {
    const id = await newMessage();
    await claimOne(outbox, id, STALE_MS);
    // The holder died; a second process' batch is taking the row over, uncommitted.
    await dataSource.query(
      `UPDATE whatsapp_messages SET dispatch_started_at = now() - interval '1 minute' WHERE id = $1`,
      [id],
    );
    const commit = await uncommitted(
      `UPDATE whatsapp_messages SET attempts = attempts + 1, dispatch_started_at = now() WHERE id = $1`,
      [id],
    );
    const other = await newMessage();
    const claims = outbox.claimForSendMany([
      { id: other, staleMs: STALE_MS },
      { id, staleMs: STALE_MS },
    ]);
    await someoneWaitsForALock();
    await commit();
    const [first, second] = await claims;
    expect(first).toMatchObject({ id: other, attempt: 1 });
    expect(second).toBeNull();
  });

  it('should record the other answers of a batch that one locked row sinks, and fail only its own', async () => {
    // A pool whose statements end after 300 ms, and a row locked for longer by someone else.
    const impatient = await new DataSource({
      ...dataSourceOptions({ url: testDatabaseUrl(), poolSize: 2 }, []),
      extra: { statement_timeout: 300, query_timeout: 5_000 },
    }).initialize();
    try {
      const repository = new OutboxRepository(impatient, new MessageWriter(impatient));
      const ids = await Promise.all(Array.from({ length: 5 }, () => newMessage()));
      for (const id of ids) await claimOne(outbox, id, STALE_MS);
      const locker = dataSource.createQueryRunner();
      await locker.connect();
      await locker.startTransaction();
      await locker.query('SELECT 1 FROM whatsapp_messages WHERE id = $1 FOR UPDATE', [ids[0]]);
      const sizes: number[] = [];
      const manyAnswers = repository.recordAcceptedMany.bind(repository);
      repository.recordAcceptedMany = (answers) => {
        sizes.push(answers.length);
        return manyAnswers(answers);
      };
      const batcher = new WorkerBatcher(repository, CONFIG);
      const results = await Promise.allSettled(
        ids.map((id) => batcher.recordAccepted(id, 1, queued())),
      );
      await locker.rollbackTransaction();
      await locker.release();
      // The whole batch timed out on the locked row; written again one at a time, only it failed.
      expect(sizes[0]).toBe(5);
      expect(results.map((result) => result.status)).toEqual([
        'rejected',
        'fulfilled',
        'fulfilled',
        'fulfilled',
        'fulfilled',
      ]);
      const statuses = await dataSource.query<{ id: string; status: string }[]>(
        'SELECT id, status FROM whatsapp_messages WHERE id = ANY($1)',
        [ids],
      );
      expect(ids.map((id) => statuses.find((row) => row.id === id)?.status)).toEqual([
        'dispatching',
        'queued',
        'queued',
        'queued',
        'queued',
      ]);
    } finally {
      await impatient.destroy();
    }
  });

  it('should group concurrent jobs into shared statements, one claim winning per message', async () => {
    const ids = await Promise.all(Array.from({ length: 16 }, () => newMessage()));
    const sizes: number[] = [];
    const counting = new OutboxRepository(dataSource, new MessageWriter(dataSource));
    const claimMany = counting.claimForSendMany.bind(counting);
    counting.claimForSendMany = (claims) => {
      sizes.push(claims.length);
      return claimMany(claims);
    };
    const batcher = new WorkerBatcher(counting, CONFIG);
    // Every message's job twice, as a stalled job and its duplicate would be, all at once.
    const claims = await Promise.all([...ids, ...ids].map((id) => batcher.claim(id, STALE_MS)));
    const winners = claims.filter((claimed) => claimed !== null);
    expect(winners.map((claimed) => claimed.id).sort()).toEqual([...ids].sort());
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(32);

    const results = await Promise.all(
      winners.map((claimed, index) =>
        batcher.recordAccepted(claimed.id, claimed.attempt, {
          ...queued(),
          status: index % 2 === 0 ? 'queued' : 'accepted',
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

  it('should match results to claims by position, whatever the spelling of an id', async () => {
    const id = await newMessage();
    const [upper, again] = await outbox.claimForSendMany([
      { id: id.toUpperCase(), staleMs: STALE_MS },
      { id, staleMs: STALE_MS },
    ]);
    expect(upper).toMatchObject({ id, attempt: 1 });
    expect(again).toBeNull();
  });
});
