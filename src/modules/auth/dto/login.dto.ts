import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class LoginDto {
  @ApiProperty({ minLength: 3, maxLength: 254, example: 'ada@example.com' })
  @IsString()
  @MinLength(3)
  @MaxLength(254)
  email!: string;

  // No policy here: a wrong password of any length gets the same 401.
  @ApiProperty({ minLength: 1, maxLength: 256, example: 'correct horse battery staple' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}

export class ApiKeyTokenDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 256,
    description: 'An API key (`wak_` + 43 base64url characters).',
    example: 'wak_Q2hhbmdlIG1lOiB0aGlzIGlzIGFuIGV4YW1wbGUga2V',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  apiKey!: string;
}
