import { timingSafeEqual } from 'node:crypto';
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';

/**
 * Basic auth on /metrics when METRICS_AUTH=user:pass; open when it is `off` (or unset outside
 * production, which refuses to boot without one of the two).
 */
@Injectable()
export class MetricsAuthGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const expected = this.config.metricsAuth;
    if (!expected) return true;
    const http = context.switchToHttp();
    const header = http.getRequest<FastifyRequest>().headers.authorization ?? '';
    const given = header.startsWith('Basic ')
      ? Buffer.from(header.slice(6), 'base64')
      : Buffer.alloc(0);
    const wanted = Buffer.from(`${expected.user}:${expected.password}`);
    if (given.length === wanted.length && timingSafeEqual(given, wanted)) return true;
    void http.getResponse<FastifyReply>().header('www-authenticate', 'Basic realm="metrics"');
    throw new AppException(ErrorCode.Unauthorized, 'Metrics need basic auth credentials.');
  }
}
