import { Body, Controller, Get, Param, Patch, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
} from '@nestjs/swagger';
import { ErrorCode } from '../../common/errors/error-code';
import { ApiErrors, JSON_BODY_ERRORS } from '../../common/http/openapi';
import { ReadThrottlerGuard } from '../../common/http/read-throttler.guard';
import {
  CreateUserDto,
  toUserResponse,
  UpdateUserDto,
  UserListResponse,
  UserResponse,
} from './dto/user.dto';
import { Roles } from './roles.decorator';
import { UsersService } from './users.service';
import { UuidParamPipe } from '../../common/http/uuid-param.pipe';

@Roles('admin')
@ApiBearerAuth()
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a user (admin)' })
  @ApiCreatedResponse({ type: UserResponse, description: 'The user.' })
  @ApiErrors(...JSON_BODY_ERRORS, ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.EmailTaken)
  async create(@Body() body: CreateUserDto): Promise<UserResponse> {
    return toUserResponse(await this.users.create(body.email, body.password, body.role));
  }

  @Get()
  @UseGuards(ReadThrottlerGuard)
  @ApiOperation({ summary: 'List the users (admin)' })
  @ApiOkResponse({ type: UserListResponse, description: 'Every user, oldest first.' })
  @ApiErrors(ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.RateLimited)
  async list(): Promise<UserListResponse> {
    return { items: (await this.users.list()).map(toUserResponse) };
  }

  @Patch(':id')
  @ApiOperation({ summary: "Change a user's role or disable it (admin)" })
  @ApiParam({ name: 'id', format: 'uuid', description: "The user's id." })
  @ApiOkResponse({ type: UserResponse, description: 'The user.' })
  @ApiErrors(
    ...JSON_BODY_ERRORS,
    ErrorCode.Unauthorized,
    ErrorCode.Forbidden,
    ErrorCode.NotFound,
    ErrorCode.LastAdmin,
  )
  async update(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: UpdateUserDto,
  ): Promise<UserResponse> {
    return toUserResponse(await this.users.update(id, body));
  }
}
