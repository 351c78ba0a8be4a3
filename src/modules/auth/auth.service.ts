import { Injectable } from '@nestjs/common';
import { looksLikeApiKey, hashApiKey } from './api-key-format';
import { ApiKeysRepository } from './api-keys.repository';
import { AuthException } from './auth.exception';
import type { AccessToken } from './auth.types';
import { LoginThrottleService } from './login-throttle.service';
import { PasswordHasher } from './password-hasher';
import { TokenService } from './token.service';
import { UsersRepository } from './users.repository';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly apiKeys: ApiKeysRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly throttle: LoginThrottleService,
  ) {}

  /** Unknown email, wrong password and disabled user answer the same 401 in about the same time. */
  async login(email: string, password: string, ip: string): Promise<AccessToken> {
    const normalized = email.trim().toLowerCase();
    // Counted before the password is checked, refunded on success: concurrent guesses cannot
    // outrun the limit.
    await this.throttle.take(ip, normalized);
    const user = await this.users.findByEmail(normalized);
    const valid = user
      ? await this.hasher.verify(user.passwordHash, password)
      : await this.hasher.verifyDummy(password);
    if (!user || !valid || user.disabledAt !== null) throw AuthException.invalidCredentials();
    await this.throttle.refund(ip, normalized);
    return this.tokens.issue(user);
  }

  /** A machine client trades its API key for a JWT of the key's user. */
  async exchangeApiKey(apiKey: string, ip: string): Promise<AccessToken> {
    await this.throttle.take(ip);
    const key = looksLikeApiKey(apiKey) ? await this.apiKeys.findByHash(hashApiKey(apiKey)) : null;
    const user = key && key.revokedAt === null ? await this.users.findById(key.userId) : null;
    if (!key || !user || user.disabledAt !== null) throw AuthException.invalidCredentials();
    await this.throttle.refund(ip);
    await this.apiKeys.markUsed(key.id);
    return this.tokens.issue(user, key.id);
  }
}
