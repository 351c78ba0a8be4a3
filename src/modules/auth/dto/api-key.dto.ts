import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsOptional, IsUUID } from 'class-validator';
import type { ApiKeyEntity } from '../entities/api-key.entity';

export class CreateApiKeyDto {
  /** The user the key acts as (default: the admin creating it). */
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'The user the key acts as (default: the admin creating it).',
    example: '5b0f8c1e-2d3a-4e5f-9a8b-7c6d5e4f3a2b',
  })
  @IsOptional()
  @IsUUID()
  userId?: string;
}

const DATE_TIME_OR_NULL = { type: String, format: 'date-time', nullable: true } as const;

@ApiSchema({ name: 'ApiKey' })
export class ApiKeyResponse {
  @ApiProperty({ format: 'uuid', example: '0e6f3c2a-7b1d-4c9e-8f2a-1d3c5b7a9e0f' })
  id!: string;

  @ApiProperty({ format: 'uuid', example: '5b0f8c1e-2d3a-4e5f-9a8b-7c6d5e4f3a2b' })
  userId!: string;

  @ApiProperty({ description: "The key's first 12 characters.", example: 'wak_Q2hhbmdl' })
  prefix!: string;

  @ApiProperty({ format: 'date-time', example: '2025-01-31T18:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({ ...DATE_TIME_OR_NULL, example: null })
  lastUsedAt!: string | null;

  @ApiProperty({ ...DATE_TIME_OR_NULL, example: null })
  revokedAt!: string | null;
}

@ApiSchema({ name: 'CreatedApiKey' })
export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({
    description: 'The key (`wak_` + 43 base64url characters): in this answer only.',
    example: 'wak_Q2hhbmdlIG1lOiB0aGlzIGlzIGFuIGV4YW1wbGUga2V',
  })
  key!: string;
}

@ApiSchema({ name: 'ApiKeyList' })
export class ApiKeyListResponse {
  @ApiProperty({
    type: () => ApiKeyResponse,
    isArray: true,
    description: 'Oldest first, revoked ones included.',
  })
  items!: ApiKeyResponse[];
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
