import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from 'class-validator';
import { USER_ROLES, type UserEntity, type UserRole } from '../entities/user.entity';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../password-hasher';

const ROLE = { enum: USER_ROLES, enumName: 'UserRole' } as const;

export class CreateUserDto {
  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' })
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiProperty({
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_LENGTH,
    example: 'correct horse battery staple',
  })
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH, {
    message: `password must be at least ${PASSWORD_MIN_LENGTH} characters`,
  })
  @MaxLength(PASSWORD_MAX_LENGTH)
  password!: string;

  @ApiProperty({ ...ROLE, example: 'sender' })
  @IsIn(USER_ROLES)
  role!: UserRole;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ ...ROLE, example: 'viewer' })
  @IsOptional()
  @IsIn(USER_ROLES)
  role?: UserRole;

  @ApiPropertyOptional({ description: 'true disables the user at once.', example: false })
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

@ApiSchema({ name: 'User' })
export class UserResponse {
  @ApiProperty({ format: 'uuid', example: '5b0f8c1e-2d3a-4e5f-9a8b-7c6d5e4f3a2b' })
  id!: string;

  @ApiProperty({ description: 'Lower-cased.', example: 'ada@example.com' })
  email!: string;

  @ApiProperty({ ...ROLE, example: 'sender' })
  role!: UserRole;

  @ApiProperty({ format: 'date-time', example: '2025-01-31T18:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  disabledAt!: string | null;
}

@ApiSchema({ name: 'UserList' })
export class UserListResponse {
  @ApiProperty({ type: () => UserResponse, isArray: true, description: 'Oldest first.' })
  items!: UserResponse[];
}

export function toUserResponse(user: UserEntity): UserResponse {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
    disabledAt: user.disabledAt?.toISOString() ?? null,
  };
}
