import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { DataSource } from 'typeorm';

/** Up when every migration the code knows is applied; a pod on an unmigrated schema is not ready. */
@Injectable()
export class MigrationsHealthIndicator {
  constructor(
    private readonly dataSource: DataSource,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key: 'migrations'): Promise<HealthIndicatorResult<'migrations'>> {
    const indicator = this.indicators.check(key);
    try {
      const executed = await this.dataSource.query<{ name: string }[]>(
        `SELECT name FROM ${this.dataSource.options.migrationsTableName ?? 'migrations'}`,
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
