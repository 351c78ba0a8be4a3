import type { HealthCheckResult } from '@nestjs/terminus';
import { downChecks, statusesOnly } from './health-answer';

const failing: HealthCheckResult = {
  status: 'error',
  info: { redis: { status: 'up' } },
  error: {
    postgres: { status: 'down', message: 'connect ECONNREFUSED 10.0.0.7:5432' },
    migrations: { status: 'down', pending: ['AddReconciledAt1795745000000'] },
  },
  details: {
    redis: { status: 'up' },
    postgres: { status: 'down', message: 'connect ECONNREFUSED 10.0.0.7:5432' },
    migrations: { status: 'down', pending: ['AddReconciledAt1795745000000'] },
  },
};

describe('statusesOnly', () => {
  it('should keep the terminus shape with nothing but each status', () => {
    expect(statusesOnly({ ok: false, body: failing })).toEqual({
      ok: false,
      body: {
        status: 'error',
        info: { redis: { status: 'up' } },
        error: { postgres: { status: 'down' }, migrations: { status: 'down' } },
        details: {
          redis: { status: 'up' },
          postgres: { status: 'down' },
          migrations: { status: 'down' },
        },
      },
    });
  });

  it('should leave the answer it was given untouched', () => {
    const body = structuredClone(failing);
    statusesOnly({ ok: false, body });
    expect(body).toEqual(failing);
  });
});

describe('downChecks', () => {
  it('should pick the indicators that are down, with what they said', () => {
    expect(downChecks(failing)).toEqual({
      postgres: failing.details.postgres,
      migrations: failing.details.migrations,
    });
    expect(downChecks({ status: 'ok', details: { redis: { status: 'up' } } })).toEqual({});
  });
});
