import { IsOptional, IsUUID } from 'class-validator';
import type { ApiKeyEntity } from '../entities/api-key.entity';

export class CreateApiKeyDto {
  /** The user the key acts as (default: the admin creating it). */
  @IsOptional()
  @IsUUID()
  userId?: string;
}

export interface ApiKeyResponse {
  id: string;
  userId: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export function toApiKeyResponse(key: ApiKeyEntity): ApiKeyResponse {
  return {
    id: key.id,
    userId: key.userId,
    prefix: key.prefix,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}
