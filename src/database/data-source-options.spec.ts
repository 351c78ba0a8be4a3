import { readDataSourceOptions, splitPool } from './data-source-options';

describe('splitPool', () => {
  it.each([
    [10, true, { main: 7, reads: 3 }],
    [20, true, { main: 14, reads: 6 }],
    [4, true, { main: 3, reads: 1 }],
    [2, true, { main: 1, reads: 1 }],
    [1, true, { main: 1, reads: 1 }],
    [10, false, { main: 10, reads: 1 }],
  ])('should split DB_POOL_SIZE=%i (serves the API: %p) into %p', (poolSize, servesApi, split) => {
    expect(splitPool(poolSize, servesApi)).toEqual(split);
  });

  it('should stay within DB_POOL_SIZE from 2 up, always leaving the rest the larger share', () => {
    for (let poolSize = 2; poolSize <= 200; poolSize += 1) {
      const { main, reads } = splitPool(poolSize, true);
      expect(main + reads).toBe(poolSize);
      expect(main).toBeGreaterThanOrEqual(reads);
    }
  });
});

describe('readDataSourceOptions', () => {
  it('should bound every read: statement timeout, connection wait, read-only sessions', () => {
    const options = readDataSourceOptions({
      url: 'postgres://127.0.0.1/x',
      poolSize: 3,
      statementTimeoutMs: 5_000,
      waitMs: 2_000,
    });
    expect(options).toMatchObject({
      poolSize: 3,
      migrations: [],
      installExtensions: false,
      extra: {
        statement_timeout: 5_000,
        connectionTimeoutMillis: 2_000,
        options: '-c default_transaction_read_only=on',
      },
    });
  });
});
