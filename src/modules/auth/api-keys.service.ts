import { Injectable } from '@nestjs/common';
import { generateApiKey } from './api-key-format';
import { ApiKeysRepository } from './api-keys.repository';
import { AuthException } from './auth.exception';
import type { ApiKeyEntity } from './entities/api-key.entity';
import { PrincipalService } from './principal.service';
import { UsersRepository } from './users.repository';

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly apiKeys: ApiKeysRepository,
    private readonly users: UsersRepository,
    private readonly principals: PrincipalService,
  ) {}

  /** Returns the stored key and, once, the key itself. */
  async create(userId: string): Promise<{ entity: ApiKeyEntity; key: string }> {
    if (!(await this.users.findById(userId))) throw AuthException.notFound('User');
    const generated = generateApiKey();
    const entity = await this.apiKeys.create(userId, generated.prefix, generated.hash);
    return { entity, key: generated.key };
  }

  list(): Promise<ApiKeyEntity[]> {
    return this.apiKeys.listAll();
  }

  async revoke(id: string): Promise<void> {
    const key = await this.apiKeys.findById(id);
    if (!key) throw AuthException.notFound('API key');
    await this.apiKeys.revoke(id);
    // Tokens traded for this key stop working at once on this replica.
    this.principals.forgetApiKey(id);
  }
}
