import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.constants';
import { dataSourceOptions, readDataSourceOptions, splitPool } from './data-source-options';
import { READ_DATA_SOURCE } from './database.constants';

const split = (config: AppConfig) => splitPool(config.database.poolSize, config.role !== 'worker');

/**
 * Two pools sharing DB_POOL_SIZE: the default data source (webhooks, sends, auth, the worker)
 * and READ_DATA_SOURCE for the API's list and metrics reads, which can never hold more than their
 * share however many run at once.
 */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions({ url: config.database.url, poolSize: split(config).main }),
        autoLoadEntities: true,
        // Boot must not hang on an unreachable Postgres: one try, then readiness says so.
        retryAttempts: 0,
      }),
    }),
    TypeOrmModule.forRootAsync({
      name: READ_DATA_SOURCE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...readDataSourceOptions({
          url: config.database.url,
          poolSize: split(config).reads,
          statementTimeoutMs: config.database.readStatementTimeoutMs,
          waitMs: config.database.readWaitMs,
        }),
        // Here too: @nestjs/typeorm finds the data source to close on shutdown by this name.
        name: READ_DATA_SOURCE,
        retryAttempts: 0,
      }),
    }),
  ],
})
export class DatabaseModule {}
