import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import {
  JWT_AUDIENCE,
  JWT_CLOCK_TOLERANCE_S,
  JWT_ISSUER,
  type AccessToken,
  type TokenClaims,
} from './auth.types';
import type { UserEntity } from './entities/user.entity';

/** HS256 JWTs with iss/aud set and checked; nothing but HS256 is ever accepted. */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async issue(user: UserEntity, apiKeyId?: string): Promise<AccessToken> {
    const claims: TokenClaims = {
      sub: user.id,
      role: user.role,
      ...(apiKeyId ? { akid: apiKeyId } : {}),
    };
    const accessToken = await this.jwt.signAsync(claims, {
      secret: this.config.jwt.secret,
      algorithm: 'HS256',
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      expiresIn: this.config.jwt.ttlSeconds,
    });
    return { accessToken, tokenType: 'Bearer', expiresIn: this.config.jwt.ttlSeconds };
  }

  /** The claims of a valid token, or null for anything else (bad signature, alg, iss, aud, exp …). */
  async verify(token: string): Promise<TokenClaims | null> {
    try {
      const claims = await this.jwt.verifyAsync<TokenClaims & { iat?: number }>(token, {
        secret: this.config.jwt.secret,
        algorithms: ['HS256'],
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
        clockTolerance: JWT_CLOCK_TOLERANCE_S,
      });
      return typeof claims.sub === 'string' ? claims : null;
    } catch {
      return null;
    }
  }
}
