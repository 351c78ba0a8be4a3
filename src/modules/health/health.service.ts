import { Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { MigrationsHealthIndicator } from './migrations.health';
import { RedisHealthIndicator } from './redis.health';

const PING_TIMEOUT_MS = 1_500;

export interface HealthAnswer {
  ok: boolean;
  body: HealthCheckResult;
}

@Injectable()
export class HealthService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly health: HealthCheckService,
    private readonly postgres: TypeOrmHealthIndicator,
    private readonly migrations: MigrationsHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  /** The process answers; touches no dependency. */
  live(): Promise<HealthAnswer> {
    return this.run([]);
  }

  /**
   * api/all: Postgres and migrations decide; Redis is only reported, because the API keeps
   * accepting sends (outbox) and webhooks while Redis is down. worker: Redis decides too.
   */
  async ready(): Promise<HealthAnswer> {
    if (this.config.role === 'worker') {
      return this.run([this.pingPostgres, this.checkMigrations, this.pingRedis]);
    }
    const answer = await this.run([this.pingPostgres, this.checkMigrations]);
    const redis = await this.pingRedis();
    answer.body.details = { ...answer.body.details, ...redis };
    return answer;
  }

  /** Every dependency, whatever the role: for people and dashboards, not for probes. */
  overall(): Promise<HealthAnswer> {
    return this.run([this.pingPostgres, this.checkMigrations, this.pingRedis]);
  }

  /** 1 or 0 per dependency, for the whatsapp_dependency_up gauge. */
  async dependencies(): Promise<Record<'postgres' | 'redis', number>> {
    const up = async (check: HealthIndicatorFunction, key: string): Promise<number> => {
      try {
        const result = await check();
        return result[key]?.status === 'up' ? 1 : 0;
      } catch {
        return 0;
      }
    };
    const [postgres, redis] = await Promise.all([
      up(this.pingPostgres, 'postgres'),
      up(this.pingRedis, 'redis'),
    ]);
    return { postgres, redis };
  }

  private readonly pingPostgres: HealthIndicatorFunction = () =>
    this.postgres.pingCheck('postgres', { timeout: PING_TIMEOUT_MS });
  private readonly checkMigrations: HealthIndicatorFunction = () =>
    this.migrations.check('migrations');
  private readonly pingRedis: HealthIndicatorFunction = () => this.redis.ping('redis');

  private async run(indicators: HealthIndicatorFunction[]): Promise<HealthAnswer> {
    try {
      return { ok: true, body: await this.health.check(indicators) };
    } catch (error) {
      if (error instanceof ServiceUnavailableException) {
        return { ok: false, body: error.getResponse() as HealthCheckResult };
      }
      throw error;
    }
  }
}
