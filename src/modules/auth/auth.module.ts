import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { RateLimitModule } from '../../common/http/rate-limit.module';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { FirstAdminBootstrap } from './first-admin.bootstrap';
import { JwtAuthGuard } from './jwt-auth.guard';
import { LoginThrottleService } from './login-throttle.service';
import { PasswordHasher } from './password-hasher';
import { PrincipalService } from './principal.service';
import { TokenService } from './token.service';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

/** Users, API keys, login, JWTs and the global guard (every route needs a token unless @Public). */
@Module({
  imports: [JwtModule.register({}), RateLimitModule],
  controllers: [AuthController, UsersController, ApiKeysController],
  providers: [
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: PasswordHasher, useValue: new PasswordHasher() },
    ApiKeysRepository,
    ApiKeysService,
    AuthService,
    FirstAdminBootstrap,
    LoginThrottleService,
    PrincipalService,
    TokenService,
    UsersRepository,
    UsersService,
  ],
})
export class AuthModule {}
