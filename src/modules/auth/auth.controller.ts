import { Body, Controller, HttpCode, Ip, Post } from '@nestjs/common';
import { Public } from '../../common/http/public.decorator';
import { AuthService } from './auth.service';
import type { AccessToken } from './auth.types';
import { ApiKeyTokenDto, LoginDto } from './dto/login.dto';

@Public()
@Controller('api/v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @HttpCode(200)
  login(@Body() body: LoginDto, @Ip() ip: string): Promise<AccessToken> {
    return this.auth.login(body.email, body.password, ip);
  }

  @Post('token')
  @HttpCode(200)
  token(@Body() body: ApiKeyTokenDto, @Ip() ip: string): Promise<AccessToken> {
    return this.auth.exchangeApiKey(body.apiKey, ip);
  }
}
