import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { dropDatabase, ensureDatabase, runMigrations } from '../../src/database/database-setup';
import { databaseUrlFor } from '../support/test-env';

async function query<T extends object>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('database setup', () => {
  const url = databaseUrlFor(`wa_test_${Date.now()}_${randomBytes(3).toString('hex')}_db`);

  afterAll(async () => {
    await dropDatabase(url);
  });

  it('should create a missing database once, and find it there the second time', async () => {
    expect(await ensureDatabase(url)).toBe(true);
    expect(await ensureDatabase(url)).toBe(false);
  });

  it('should survive two processes creating the same database at once', async () => {
    const racing = databaseUrlFor(`wa_test_${Date.now()}_${randomBytes(3).toString('hex')}_race`);
    try {
      const results = await Promise.all([ensureDatabase(racing), ensureDatabase(racing)]);
      expect(results.filter(Boolean).length).toBeLessThanOrEqual(1);
    } finally {
      await dropDatabase(racing);
    }
  });

  it('should apply every migration, then none the second time', async () => {
    const applied = await runMigrations({ url, poolSize: 2 });
    expect(applied.length).toBeGreaterThan(0);
    expect(await runMigrations({ url, poolSize: 2 })).toEqual([]);
    const extensions = await query<{ extname: string }>(url, 'SELECT extname FROM pg_extension');
    expect(extensions.map((row) => row.extname)).toContain('pgcrypto');
  });

  it('should revert every migration with a real down, and apply them again', async () => {
    const dataSource = await new DataSource(
      dataSourceOptions({ url, poolSize: 2 }, []),
    ).initialize();
    try {
      while ((await dataSource.query<unknown[]>('SELECT 1 FROM migrations')).length > 0) {
        await dataSource.undoLastMigration({ transaction: 'each' });
      }
      const extensions = await dataSource.query<{ extname: string }[]>(
        'SELECT extname FROM pg_extension',
      );
      expect(extensions.map((row) => row.extname)).not.toContain('pgcrypto');
    } finally {
      await dataSource.destroy();
    }
    expect((await runMigrations({ url, poolSize: 2 })).length).toBeGreaterThan(0);
  });

  it('should never synchronize the schema from entities', () => {
    expect(dataSourceOptions({ url, poolSize: 1 })).toMatchObject({
      synchronize: false,
      migrationsRun: false,
    });
  });
});
