import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheckService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorFunction,
} from '@nestjs/terminus';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { CachedComputation } from './cached-computation';
import { downChecks, statusesOnly, type HealthAnswer } from './health-answer';
import { MigrationsHealthIndicator } from './migrations.health';
import { RedisHealthIndicator } from './redis.health';

const PING_TIMEOUT_MS = 1_500;
/** A probe storm costs at most one round of dependency checks per endpoint per second. */
const HEALTH_CACHE_MS = 1_000;

@Injectable()
export class HealthService {
  private readonly logger = new Logger(HealthService.name);
  private readonly readyCheck = new CachedComputation(() => this.checkReady(), HEALTH_CACHE_MS);
  private readonly overallCheck = new CachedComputation(
    () => this.checked('overall', [this.pingPostgres, this.checkMigrations, this.pingRedis]),
    HEALTH_CACHE_MS,
  );

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
   * Statuses only.
   */
  async ready(): Promise<HealthAnswer> {
    return statusesOnly(await this.readyCheck.get());
  }

  /** Every dependency, whatever the role: for people and dashboards. Statuses only. */
  async overall(): Promise<HealthAnswer> {
    return statusesOnly(await this.overallCheck.get());
  }

  /** Every dependency with what it said (error texts, pending migrations): admins only. */
  async details(): Promise<HealthCheckResult> {
    return (await this.overallCheck.get()).body;
  }

  /** 1 or 0 per dependency, for the whatsapp_dependency_up gauge (shares the overall round). */
  async dependencies(): Promise<Record<'postgres' | 'redis', number>> {
    try {
      const { details } = (await this.overallCheck.get()).body;
      const up = (key: string): number => (details[key]?.status === 'up' ? 1 : 0);
      return { postgres: up('postgres'), redis: up('redis') };
    } catch {
      return { postgres: 0, redis: 0 };
    }
  }

  private async checkReady(): Promise<HealthAnswer> {
    if (this.config.role === 'worker') {
      return this.checked('ready', [this.pingPostgres, this.checkMigrations, this.pingRedis]);
    }
    const [answer, redis] = await Promise.all([
      this.run([this.pingPostgres, this.checkMigrations]),
      this.pingRedis(),
    ]);
    answer.body.details = { ...answer.body.details, ...redis };
    return this.reported('ready', answer);
  }

  private readonly pingPostgres: HealthIndicatorFunction = () =>
    this.postgres.pingCheck('postgres', { timeout: PING_TIMEOUT_MS });
  private readonly checkMigrations: HealthIndicatorFunction = () =>
    this.migrations.check('migrations');
  private readonly pingRedis: HealthIndicatorFunction = () => this.redis.ping('redis');

  private async checked(
    name: 'ready' | 'overall',
    indicators: HealthIndicatorFunction[],
  ): Promise<HealthAnswer> {
    return this.reported(name, await this.run(indicators));
  }

  /** One warn line per computation that found something down, with the details probes lack. */
  private reported(name: 'ready' | 'overall', answer: HealthAnswer): HealthAnswer {
    const down = downChecks(answer.body);
    if (Object.keys(down).length > 0) {
      this.logger.warn({ check: name, down }, 'Health check found a dependency down');
    }
    return answer;
  }

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
