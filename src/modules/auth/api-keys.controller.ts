import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import { ErrorCode } from '../../common/errors/error-code';
import { ApiErrors, JSON_BODY_ERRORS } from '../../common/http/openapi';
import { ReadThrottlerGuard } from '../../common/http/read-throttler.guard';
import { ApiKeysService } from './api-keys.service';
import type { Principal } from './auth.types';
import { CurrentUser } from './current-user.decorator';
import {
  ApiKeyListResponse,
  CreateApiKeyDto,
  CreatedApiKeyResponse,
  toApiKeyResponse,
} from './dto/api-key.dto';
import { Roles } from './roles.decorator';
import { UuidParamPipe } from '../../common/http/uuid-param.pipe';

@Roles('admin')
@ApiBearerAuth()
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  /** The key is in this answer only; it is stored hashed. */
  @Post()
  @ApiOperation({ summary: 'Create an API key (admin); the key is in this answer only' })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse, description: 'The API key and the key.' })
  @ApiErrors(...JSON_BODY_ERRORS, ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.NotFound)
  async create(
    @Body() body: CreateApiKeyDto,
    @CurrentUser() admin: Principal,
  ): Promise<CreatedApiKeyResponse> {
    const { entity, key } = await this.apiKeys.create(body.userId ?? admin.userId);
    return { ...toApiKeyResponse(entity), key };
  }

  @Get()
  @UseGuards(ReadThrottlerGuard)
  @ApiOperation({ summary: 'List the API keys (admin)' })
  @ApiOkResponse({
    type: ApiKeyListResponse,
    description: 'Every API key, oldest first, revoked ones included.',
  })
  @ApiErrors(ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.RateLimited)
  async list(): Promise<ApiKeyListResponse> {
    return { items: (await this.apiKeys.list()).map(toApiKeyResponse) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key and every token traded for it (admin)' })
  @ApiParam({ name: 'id', format: 'uuid', description: "The API key's id." })
  @ApiNoContentResponse({ description: 'Revoked (also when it already was).' })
  @ApiErrors(ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.NotFound)
  async revoke(@Param('id', UuidParamPipe) id: string): Promise<void> {
    await this.apiKeys.revoke(id);
  }
}
