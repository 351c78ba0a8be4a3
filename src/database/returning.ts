import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs an UPDATE/DELETE … RETURNING and gives its rows. TypeORM's postgres driver answers those
 * commands with `[rows, rowCount]` (and plain rows for everything else), which is easy to misread
 * as "two rows came back".
 */
export async function returning<T>(
  runner: DataSource | EntityManager,
  sql: string,
  parameters: unknown[],
): Promise<T[]> {
  const result = (await runner.query(sql, parameters)) as unknown;
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
