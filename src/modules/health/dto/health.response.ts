import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type {
  HealthCheckResult,
  HealthCheckStatus,
  HealthIndicatorResult,
  HealthIndicatorStatus,
} from '@nestjs/terminus';

const CHECK_STATUSES: HealthCheckStatus[] = ['ok', 'error', 'shutting_down'];
const INDICATOR_STATUSES: HealthIndicatorStatus[] = ['up', 'down'];

/** Dependencies by name (`postgres`, `migrations`, `redis`); `more`: what each check said. */
function indicators(example: HealthIndicatorResult, more: boolean): object {
  return {
    type: 'object',
    description: more
      ? 'By dependency, with what its check said.'
      : 'By dependency, reduced to its status.',
    additionalProperties: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: INDICATOR_STATUSES } },
      additionalProperties: more,
    },
    example,
  };
}

const UP = { status: 'up' } as const;
const REDIS_DOWN = { status: 'down', message: 'connect ECONNREFUSED 127.0.0.1:6379' } as const;

/** Terminus' answer with each dependency reduced to its status: 200 and 503 alike. */
@ApiSchema({ name: 'HealthCheck' })
export class HealthCheckResponse implements HealthCheckResult {
  @ApiProperty({ enum: CHECK_STATUSES, example: 'ok' })
  status!: HealthCheckStatus;

  @ApiPropertyOptional(indicators({ postgres: UP, migrations: UP }, false))
  info?: HealthIndicatorResult;

  @ApiPropertyOptional(indicators({}, false))
  error?: HealthIndicatorResult;

  @ApiProperty(indicators({ postgres: UP, migrations: UP, redis: { status: 'down' } }, false))
  details!: HealthIndicatorResult;
}

/** Terminus' full answer: error texts, pending migration names. */
@ApiSchema({ name: 'HealthCheckDetails' })
export class HealthCheckDetailsResponse implements HealthCheckResult {
  @ApiProperty({ enum: CHECK_STATUSES, example: 'error' })
  status!: HealthCheckStatus;

  @ApiPropertyOptional(indicators({ postgres: UP, migrations: UP }, true))
  info?: HealthIndicatorResult;

  @ApiPropertyOptional(indicators({ redis: REDIS_DOWN }, true))
  error?: HealthIndicatorResult;

  @ApiProperty(indicators({ postgres: UP, migrations: UP, redis: REDIS_DOWN }, true))
  details!: HealthIndicatorResult;
}
