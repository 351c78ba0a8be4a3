import { Body, Controller, HttpCode, Ip, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@nestjs/swagger';
import { ErrorCode } from '../../common/errors/error-code';
import { Public } from '../../common/http/public.decorator';
import { ApiErrors, JSON_BODY_ERRORS } from '../../common/http/openapi';
import { AuthService } from './auth.service';
import { AccessTokenResponse } from './dto/access-token.response';
import { ApiKeyTokenDto, LoginDto } from './dto/login.dto';

@Public()
@Controller('api/v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in with email and password (people)' })
  @ApiOkResponse({ type: AccessTokenResponse, description: 'A bearer token.' })
  @ApiErrors(...JSON_BODY_ERRORS, ErrorCode.Unauthorized, ErrorCode.RateLimited)
  login(@Body() body: LoginDto, @Ip() ip: string): Promise<AccessTokenResponse> {
    return this.auth.login(body.email, body.password, ip);
  }

  @Post('token')
  @HttpCode(200)
  @ApiOperation({ summary: 'Trade an API key for a bearer token (machine clients)' })
  @ApiOkResponse({ type: AccessTokenResponse, description: 'A bearer token.' })
  @ApiErrors(...JSON_BODY_ERRORS, ErrorCode.Unauthorized, ErrorCode.RateLimited)
  token(@Body() body: ApiKeyTokenDto, @Ip() ip: string): Promise<AccessTokenResponse> {
    return this.auth.exchangeApiKey(body.apiKey, ip);
  }
}
