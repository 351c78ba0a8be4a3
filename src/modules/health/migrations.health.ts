import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { withTimeout } from '../../common/with-timeout';

const QUERY_TIMEOUT_MS = 1_500;

/**
 * Up when every migration the code knows is applied; a pod on an unmigrated schema is not ready.
 * Down says why (`pending` names, or the error): the health service keeps that for the logs and
 * the admin-only details route.
 */
@Injectable()
export class MigrationsHealthIndicator {
  constructor(
    private readonly dataSource: DataSource,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key: 'migrations'): Promise<HealthIndicatorResult<'migrations'>> {
    const indicator = this.indicators.check(key);
    try {
      // Bounded: a hung check would hold every probe that shares its round.
      const executed = await withTimeout(
        this.dataSource.query<{ name: string }[]>(
          `SELECT name FROM ${this.dataSource.options.migrationsTableName ?? 'migrations'}`,
        ),
        QUERY_TIMEOUT_MS,
      );
      const done = new Set(executed.map((row) => row.name));
      const pending = this.dataSource.migrations
        .map((migration) => migration.name ?? migration.constructor.name)
        .filter((name) => !done.has(name));
      return pending.length === 0 ? indicator.up() : indicator.down({ pending });
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }
  }
}
