import { IsString, MaxLength, MinLength } from 'class-validator';

export class LoginDto {
  @IsString()
  @MinLength(3)
  @MaxLength(254)
  email!: string;

  // No policy here: a wrong password of any length gets the same 401.
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  password!: string;
}

export class ApiKeyTokenDto {
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  apiKey!: string;
}
