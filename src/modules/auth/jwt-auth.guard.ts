import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC } from '../../common/http/public.decorator';
import { AuthException } from './auth.exception';
import type { AuthenticatedRequest } from './current-user.decorator';
import type { UserRole } from './entities/user.entity';
import { PrincipalService } from './principal.service';
import { ROLES } from './roles.decorator';
import { TokenService } from './token.service';

/**
 * The global guard: every route needs a valid bearer token unless marked @Public(); @Roles()
 * narrows who may call it. No or bad token → 401 with WWW-Authenticate; wrong role → 403.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly principals: PrincipalService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerToken(request.headers.authorization);
    if (token === null) throw AuthException.missingToken();
    const claims = await this.tokens.verify(token);
    const principal = claims && (await this.principals.resolve(claims));
    if (!principal) throw AuthException.invalidToken();
    request.principal = principal;
    const roles = this.reflector.getAllAndOverride<UserRole[] | undefined>(ROLES, targets);
    if (roles && !roles.includes(principal.role)) throw AuthException.forbidden();
    return true;
  }
}

function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header ?? '');
  return match ? match[1] : null;
}
