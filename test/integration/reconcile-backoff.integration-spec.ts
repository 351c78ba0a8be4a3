import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { ReconcileRepository } from '../../src/modules/delivery/reconcile/reconcile.repository';
import { insertSender } from '../support/outbox-fixtures';
import { testDatabaseUrl } from '../support/test-env';

// Which messages the reconciler looks at, by how long they have been unchanged: the first look
// RECONCILE_AFTER after the last change, later looks further and further apart, none after the
// give-up age. Times are seeded relative to the database's now().

const AFTER = 120;
const BACKOFF = [300, 900, 3_600, 21_600, 86_400];
const GIVE_UP = 7 * 86_400;

describe('the reconciler backs off per message', () => {
  let dataSource: DataSource;
  let userId: string;

  beforeAll(async () => {
    dataSource = await new DataSource(
      dataSourceOptions({ url: testDatabaseUrl(), poolSize: 2 }, []),
    ).initialize();
    userId = await insertSender(dataSource, 'reconcile-backoff');
  });

  afterAll(async () => {
    await dataSource.destroy();
  });

  /** A message `sent` (or `status`) `changedAgo` seconds ago, last looked at `lookedAgo` seconds ago. */
  const seed = async (
    name: string,
    changedAgo: number,
    lookedAgo: number | null,
    status = 'sent',
    createdAgo = changedAgo + 5,
  ): Promise<[string, string]> => {
    const [row] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO whatsapp_messages
         (direction, twilio_sid, "to", body, status, attempts, max_attempts, created_by, reference,
          created_at, accepted_at, sent_at, delivered_at, reconciled_at, updated_at)
       VALUES ('outbound', $1, 'whatsapp:+14155550100', 'x', $2, 1, 8, $3, $4,
               now() - $5 * interval '1 second', now() - $5 * interval '1 second',
               CASE WHEN $2 IN ('sent', 'delivered') THEN now() - $6 * interval '1 second' END,
               CASE WHEN $2 = 'delivered' THEN now() - $6 * interval '1 second' END,
               now() - $7 * interval '1 second', now())
       RETURNING id`,
      [
        `SM${randomBytes(16).toString('hex')}`,
        status,
        userId,
        `backoff-${randomUUID()}`,
        createdAgo,
        changedAgo,
        lookedAgo,
      ],
    );
    return [name, row.id];
  };

  /** The ids one pass leases now, with or without RECONCILE_READ. */
  const leasedIds = async (read: boolean): Promise<Set<string>> =>
    new Set(
      (
        await new ReconcileRepository(dataSource).leaseDue({
          afterSeconds: AFTER,
          backoffSeconds: BACKOFF,
          giveUpSeconds: GIVE_UP,
          read,
          limit: 100_000,
          leaseMs: 1,
          passStartedAt: null,
        })
      ).map((message) => message.id),
    );

  it('should lease exactly the messages due', async () => {
    const DAY = 86_400;
    const cases = await Promise.all([
      seed('changed 60 s ago, never looked at', 60, null),
      seed('changed 130 s ago, never looked at', 130, null),
      seed('looked 120 s after its change, 60 s ago (gap 300 s)', 180, 60),
      seed('looked 120 s after its change, 360 s ago (gap 300 s)', 480, 360),
      seed('looked 8 min after its change, 2 min ago (gap 900 s)', 600, 120),
      seed('looked 8 min after its change, 16 min ago (gap 900 s)', 1_440, 960),
      seed('changed after its last look, 10 min ago', 600, 900),
      seed('unchanged for a day when looked at 23 h ago (gap 1 day)', 2 * DAY, 23 * 3600),
      seed('unchanged for a day when looked at 25 h ago (gap 1 day)', 2 * DAY + 7200, 25 * 3600),
      seed('queued, created 8 days ago, never looked at', 8 * DAY, null, 'queued'),
      seed('queued, created 6 days ago, looked at 25 h ago', 6 * DAY, 25 * 3600, 'queued'),
      seed('sent 73 h ago (final by then), never looked at', 73 * 3600, null),
      seed('delivered 10 min ago (final)', 600, null, 'delivered'),
      // A catch-up looked 5 s after the change: the first look still comes at RECONCILE_AFTER.
      seed('looked 5 s after its change, 130 s ago', 130, 125),
      seed('looked 5 s after its change, 100 s ago', 100, 95),
    ]);
    const leased = await leasedIds(false);
    expect(Object.fromEntries(cases.map(([name, id]) => [name, leased.has(id)]))).toEqual({
      'changed 60 s ago, never looked at': false,
      'changed 130 s ago, never looked at': true,
      'looked 120 s after its change, 60 s ago (gap 300 s)': false,
      'looked 120 s after its change, 360 s ago (gap 300 s)': true,
      'looked 8 min after its change, 2 min ago (gap 900 s)': false,
      'looked 8 min after its change, 16 min ago (gap 900 s)': true,
      'changed after its last look, 10 min ago': true,
      'unchanged for a day when looked at 23 h ago (gap 1 day)': false,
      'unchanged for a day when looked at 25 h ago (gap 1 day)': true,
      'queued, created 8 days ago, never looked at': false,
      'queued, created 6 days ago, looked at 25 h ago': true,
      'sent 73 h ago (final by then), never looked at': false,
      'delivered 10 min ago (final)': false,
      'looked 5 s after its change, 130 s ago': true,
      'looked 5 s after its change, 100 s ago': false,
    });
  });

  it('should look once more for a read (RECONCILE_READ) RECONCILE_AFTER after delivery, an earlier look not counting', async () => {
    const cases = await Promise.all([
      seed('delivered 130 s ago, looked 5 s after', 130, 125, 'delivered'),
      seed('delivered 100 s ago, looked 5 s after', 100, 95, 'delivered'),
      seed('delivered 10 min ago, looked 8 min ago', 600, 480, 'delivered'),
    ]);
    const leased = await leasedIds(true);
    expect(Object.fromEntries(cases.map(([name, id]) => [name, leased.has(id)]))).toEqual({
      'delivered 130 s ago, looked 5 s after': true,
      'delivered 100 s ago, looked 5 s after': false,
      'delivered 10 min ago, looked 8 min ago': false,
    });
  });
});
