import type { HealthCheckResult, HealthIndicatorResult } from '@nestjs/terminus';

export interface HealthAnswer {
  ok: boolean;
  body: HealthCheckResult;
}

/**
 * What anyone may see: terminus' shape with each indicator reduced to its status. Error
 * texts name hosts and ports, and pending migrations name the schema's state; those go to the
 * logs and to the admin-only details route.
 */
export function statusesOnly(answer: HealthAnswer): HealthAnswer {
  const { status, info, error, details } = answer.body;
  return {
    ok: answer.ok,
    body: {
      status,
      ...(info ? { info: stripped(info) } : {}),
      ...(error ? { error: stripped(error) } : {}),
      details: stripped(details),
    },
  };
}

/** The indicators that are down, with whatever they said (for the warn line). */
export function downChecks(body: HealthCheckResult): HealthIndicatorResult {
  return Object.fromEntries(
    Object.entries(body.details).filter(([, result]) => result.status === 'down'),
  );
}

function stripped(section: Partial<HealthIndicatorResult>): HealthIndicatorResult {
  const out: HealthIndicatorResult = {};
  for (const [key, result] of Object.entries(section)) {
    if (result) out[key] = { status: result.status };
  }
  return out;
}
