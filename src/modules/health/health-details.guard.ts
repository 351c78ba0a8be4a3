import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import type { AuthenticatedRequest } from '../auth/current-user.decorator';

/**
 * Admins only, checked on the principal the global JWT guard attached. Every role serves the
 * health routes, but a worker loads no auth module and so has no global guard: there no request
 * carries a principal, and the details answer 401 (they are in the worker's logs instead). In
 * the api role the global guard has already answered 401/403; this repeats it as a backstop.
 */
@Injectable()
export class HealthDetailsGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) {
      throw new AppException(
        ErrorCode.Unauthorized,
        this.config.role === 'worker'
          ? 'A worker does not check tokens; ask an API process for health details.'
          : 'A bearer token is required.',
        undefined,
        { 'www-authenticate': 'Bearer' },
      );
    }
    if (principal.role !== 'admin') {
      throw new AppException(ErrorCode.Forbidden, 'Your role does not allow this.');
    }
    return true;
  }
}
