import { Body, Controller, Get, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ReadThrottlerGuard } from '../../common/http/read-throttler.guard';
import { CreateUserDto, toUserResponse, UpdateUserDto, type UserResponse } from './dto/user.dto';
import { Roles } from './roles.decorator';
import { UsersService } from './users.service';
import { UuidParamPipe } from '../../common/http/uuid-param.pipe';

@Roles('admin')
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  async create(@Body() body: CreateUserDto): Promise<UserResponse> {
    return toUserResponse(await this.users.create(body.email, body.password, body.role));
  }

  @Get()
  @UseGuards(ReadThrottlerGuard)
  async list(): Promise<{ items: UserResponse[] }> {
    return { items: (await this.users.list()).map(toUserResponse) };
  }

  @Patch(':id')
  async update(
    @Param('id', UuidParamPipe) id: string,
    @Body() body: UpdateUserDto,
  ): Promise<UserResponse> {
    return toUserResponse(await this.users.update(id, body));
  }
}
