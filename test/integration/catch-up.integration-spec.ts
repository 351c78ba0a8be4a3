import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { dropDatabase, ensureDatabase, runMigrations } from '../../src/database/database-setup';
import { CatchUpRepository } from '../../src/modules/delivery/catch-up/catch-up.repository';
import { FaultWatchService } from '../../src/modules/delivery/catch-up/fault-watch.service';
import { SHED_QUIET_MS } from '../../src/modules/delivery/catch-up/fault-windows';
import { ReconcileRepository } from '../../src/modules/delivery/reconcile/reconcile.repository';
import { insertSender } from '../support/outbox-fixtures';
import { testConfig } from '../support/test-app';
import { databaseUrlFor } from '../support/test-env';

// The fault watch and the catch-up's tables on a database of their own (heartbeats and windows
// are the fleet's): beats that find gaps, each fault recorded once however many processes see
// it, Redis coming back and shedding ending become windows, and which messages a window covers.

describe('catch-up windows', () => {
  const url = databaseUrlFor(`wa_test_${Date.now()}_${randomUUID().slice(0, 6)}_windows`);
  let dataSource: DataSource;
  let windows: CatchUpRepository;

  const recorded = () =>
    dataSource.query<{ reason: string; from: Date; to: Date }[]>(
      'SELECT reason, gap_from AS "from", gap_to AS "to" FROM reconcile_catchups ORDER BY id',
    );

  /** A fault watch as a process of `role` would run it, with Redis's connection events faked. */
  const watch = (role: 'api' | 'worker' | 'all') => {
    const redis = new EventEmitter();
    const config = testConfig({ ROLE: role });
    config.delivery.catchUp = true;
    const service = new FaultWatchService(config, windows, redis as unknown as Redis);
    return { service, redis };
  };

  beforeAll(async () => {
    await ensureDatabase(url);
    await runMigrations({ url, poolSize: 2 });
    dataSource = await new DataSource(dataSourceOptions({ url, poolSize: 4 }, [])).initialize();
    windows = new CatchUpRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await dropDatabase(url);
  });

  beforeEach(async () => {
    await dataSource.query('DELETE FROM reconcile_catchups');
    await dataSource.query('DELETE FROM service_heartbeats');
  });

  it('should find no gap on the first beat ever, nor on beats on time', async () => {
    const { service } = watch('all');
    await service.runOnce();
    await service.runOnce();
    expect(await recorded()).toEqual([]);
  });

  it('should record one window when a role stopped beating, however many roles and processes see it', async () => {
    const { service } = watch('all');
    const other = watch('worker').service;
    // Both processes have been running for a minute.
    for (const running of [service, other]) running.startedAt = new Date(Date.now() - 60_000);
    await service.runOnce();
    // Nobody beat for 30 s, though both were running: PostgreSQL was away.
    await dataSource.query(`UPDATE service_heartbeats SET beat_at = now() - interval '30 seconds'`);
    await Promise.all([service.runOnce(), other.runOnce(), service.runOnce()]);
    const rows = await recorded();
    expect(rows).toHaveLength(1);
    expect(rows[0].reason).toBe('postgres');
    expect(rows[0].to.getTime() - rows[0].from.getTime()).toBeGreaterThanOrEqual(29_000);
    await service.runOnce();
    expect(await recorded()).toHaveLength(1);
  });

  it('should call a gap found by a process that started after it a crash', async () => {
    await dataSource.query(
      `INSERT INTO service_heartbeats (role, beat_at) VALUES ('worker', now() - interval '4 seconds')`,
    );
    await watch('worker').service.runOnce();
    expect((await recorded()).map((row) => row.reason)).toEqual(['heartbeat']);
  });

  it('should record Redis coming back, and shedding once it is over', async () => {
    const { service, redis } = watch('api');
    service.onApplicationBootstrap();
    try {
      redis.emit('close');
      redis.emit('ready');
      const now = Date.now();
      service.noteShed(now - SHED_QUIET_MS - 3_000);
      service.noteShed(now - SHED_QUIET_MS - 1_000);
      await service.runOnce();
      const rows = await recorded();
      expect(rows.map((row) => row.reason).sort()).toEqual(['redis', 'shedding']);
      const shed = rows.find((row) => row.reason === 'shedding');
      expect(shed?.to.getTime()).toBe(now - SHED_QUIET_MS - 1_000);
    } finally {
      await service.onModuleDestroy();
    }
  });

  it('should keep shedding open while webhooks are still refused', async () => {
    const { service } = watch('api');
    service.noteShed(Date.now() - 60_000);
    service.noteShed();
    await service.runOnce();
    expect(await recorded()).toEqual([]);
  });

  it('should lease one window at a time and cover exactly the messages that could have missed a callback in it', async () => {
    const userId = await insertSender(dataSource, 'catch-up');
    // The window: 20 min ago → 10 min ago.
    const seed = async (
      status: string,
      createdAgo: number,
      changedAgo: number,
      lookedAgo: number | null = null,
    ): Promise<string> => {
      const [row] = await dataSource.query<{ id: string }[]>(
        `INSERT INTO whatsapp_messages
           (direction, twilio_sid, "to", body, status, attempts, max_attempts, created_by,
            created_at, accepted_at, sent_at, delivered_at, reconciled_at, updated_at)
         VALUES ('outbound', $1, 'whatsapp:+14155550100', 'x', $2, 1, 8, $3,
                 now() - $4 * interval '1 second', now() - $4 * interval '1 second',
                 CASE WHEN $2 IN ('sent', 'delivered') THEN now() - $5 * interval '1 second' END,
                 CASE WHEN $2 = 'delivered' THEN now() - $5 * interval '1 second' END,
                 now() - $6 * interval '1 second', now())
         RETURNING id`,
        [`SM${randomBytes(16).toString('hex')}`, status, userId, createdAgo, changedAgo, lookedAgo],
      );
      return row.id;
    };
    const covered = await Promise.all([
      seed('sent', 1_300, 1_250),
      seed('queued', 1_500, 1_500),
      seed('delivered', 1_300, 900), // a read lost in the window
      seed('delivered', 1_500, 1_500), // delivered within 10 min before it
      seed('sent', 5_000, 4_000), // changed 43 min before the window: within the hour
      seed('sent', 1_300, 1_250, 900), // looked at before the window ended
    ]);
    const outside = await Promise.all([
      seed('sent', 300, 300), // created after the window
      seed('read', 1_300, 1_000), // final
      seed('sent', 9_000, 8_000), // quiet for over an hour before the window
      seed('sent', 1_300, 1_250, 300), // looked at since the window ended
      seed('delivered', 2_400, 2_300), // delivered 18 min before it: its read is not expected
    ]);
    await windows.record({
      reason: 'heartbeat',
      from: new Date(Date.now() - 1_200_000),
      to: new Date(Date.now() - 600_000),
    });
    const window = await windows.lease(60_000);
    expect(window?.reason).toBe('heartbeat');
    expect(await windows.lease(60_000)).toBeNull();
    const messages = new ReconcileRepository(dataSource);
    const leaseInWindow = () =>
      messages.leaseInWindow({
        from: window!.from,
        to: window!.to,
        lookbackSeconds: 3_600,
        readLookbackSeconds: 600,
        limit: 100,
        leaseMs: 60_000,
      });
    const leased = await leaseInWindow();
    expect(leased.map((message) => message.id).sort()).toEqual([...covered].sort());
    expect(leased.map((message) => message.id)).not.toEqual(expect.arrayContaining(outside));
    // Leased: a second look finds none until they are given back.
    expect(await leaseInWindow()).toEqual([]);
    await messages.release(covered);
    expect(await leaseInWindow()).toHaveLength(covered.length);
    await windows.finish(window!.id, covered.length);
    expect(await windows.lease(60_000)).toBeNull();
  });
});
