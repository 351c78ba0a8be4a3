import { Injectable } from '@nestjs/common';
import { ApiKeysRepository } from './api-keys.repository';
import type { Principal, TokenClaims } from './auth.types';
import { UsersRepository } from './users.repository';

/**
 * How long a replica may trust its last look at a user or key. Changes made through this
 * replica apply at once (the cache entry is dropped); other replicas see them within this.
 */
export const PRINCIPAL_CACHE_MS = 1_000;

interface Cached<T> {
  value: T;
  at: number;
}

/** Turns valid token claims into the current principal: the user must exist and be enabled. */
@Injectable()
export class PrincipalService {
  private readonly users = new Map<string, Cached<Principal | null>>();
  private readonly revokedKeys = new Map<string, Cached<boolean>>();

  constructor(
    private readonly usersRepository: UsersRepository,
    private readonly apiKeysRepository: ApiKeysRepository,
  ) {}

  async resolve(claims: TokenClaims): Promise<Principal | null> {
    const principal = await this.cached(this.users, claims.sub, async () => {
      const user = await this.usersRepository.findById(claims.sub);
      if (!user || user.disabledAt !== null) return null;
      return { userId: user.id, email: user.email, role: user.role, apiKeyId: null };
    });
    if (!principal) return null;
    if (claims.akid === undefined) return principal;
    const akid = claims.akid;
    const usable = await this.cached(this.revokedKeys, akid, async () => {
      const key = await this.apiKeysRepository.findById(akid);
      return key !== null && key.revokedAt === null && key.userId === principal.userId;
    });
    return usable ? { ...principal, apiKeyId: akid } : null;
  }

  forgetUser(userId: string): void {
    this.users.delete(userId);
  }

  forgetApiKey(apiKeyId: string): void {
    this.revokedKeys.delete(apiKeyId);
  }

  private async cached<T>(
    cache: Map<string, Cached<T>>,
    id: string,
    load: () => Promise<T>,
  ): Promise<T> {
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < PRINCIPAL_CACHE_MS) return hit.value;
    const value = await load();
    if (cache.size > 10_000) cache.clear();
    cache.set(id, { value, at: Date.now() });
    return value;
  }
}
