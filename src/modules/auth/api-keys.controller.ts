import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ReadThrottlerGuard } from '../../common/http/read-throttler.guard';
import { ApiKeysService } from './api-keys.service';
import type { Principal } from './auth.types';
import { CurrentUser } from './current-user.decorator';
import { CreateApiKeyDto, toApiKeyResponse, type ApiKeyResponse } from './dto/api-key.dto';
import { Roles } from './roles.decorator';
import { UuidParamPipe } from '../../common/http/uuid-param.pipe';

@Roles('admin')
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  /** The key is in this answer only; it is stored hashed. */
  @Post()
  async create(
    @Body() body: CreateApiKeyDto,
    @CurrentUser() admin: Principal,
  ): Promise<ApiKeyResponse & { key: string }> {
    const { entity, key } = await this.apiKeys.create(body.userId ?? admin.userId);
    return { ...toApiKeyResponse(entity), key };
  }

  @Get()
  @UseGuards(ReadThrottlerGuard)
  async list(): Promise<{ items: ApiKeyResponse[] }> {
    return { items: (await this.apiKeys.list()).map(toApiKeyResponse) };
  }

  @Delete(':id')
  @HttpCode(204)
  async revoke(@Param('id', UuidParamPipe) id: string): Promise<void> {
    await this.apiKeys.revoke(id);
  }
}
