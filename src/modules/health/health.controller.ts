import { applyDecorators, Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
} from '@nestjs/swagger';
import type { HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { ErrorCode } from '../../common/errors/error-code';
import { ApiErrors, ApiErrorsHttpsExempt } from '../../common/http/openapi';
import { Public } from '../../common/http/public.decorator';
import { Roles } from '../auth/roles.decorator';
import { HealthDetailsGuard } from './health-details.guard';
import { HealthCheckDetailsResponse, HealthCheckResponse } from './dto/health.response';
import type { HealthAnswer } from './health-answer';
import { HealthService } from './health.service';

// The probes are public and carry statuses only; terminus' JSON is the answer for both 200 and
// 503 (probes and people read it as is). What each check said is behind /details, for admins.
@Controller('api/v1/health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Public()
  @Get()
  @ApiOperation({ summary: 'Every dependency (postgres, migrations, redis), statuses only' })
  @Probe('Every dependency is up.', 'A dependency is down.')
  async overall(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return answer(reply, await this.health.overall());
  }

  @Public()
  @Get('live')
  @ApiOperation({ summary: 'Liveness: 200 while the process answers; touches no dependency' })
  @ApiOkResponse({ type: HealthCheckResponse, description: 'The process answers.' })
  @ApiErrorsHttpsExempt()
  async live(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return answer(reply, await this.health.live());
  }

  @Public()
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the dependencies this role needs, statuses only' })
  @Probe('Ready.', 'Not ready: a dependency this role needs is down.')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return answer(reply, await this.health.ready());
  }

  /** 200 whatever the dependencies say: this reports on them, the probes above judge. */
  @Get('details')
  @Roles('admin')
  @UseGuards(HealthDetailsGuard)
  @Header('cache-control', 'no-store')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'What every check said (admin); 200 whatever the state' })
  @ApiOkResponse({ type: HealthCheckDetailsResponse, description: "Terminus' full answer." })
  @ApiErrors(ErrorCode.Unauthorized, ErrorCode.Forbidden)
  details(): Promise<HealthCheckResult> {
    return this.health.details();
  }
}

/** A public probe: terminus' answer, reduced to statuses, for 200 and 503 alike. */
function Probe(ok: string, down: string): MethodDecorator {
  return applyDecorators(
    ApiOkResponse({ type: HealthCheckResponse, description: ok }),
    ApiServiceUnavailableResponse({ type: HealthCheckResponse, description: down }),
    ApiErrorsHttpsExempt(),
  );
}

function answer(reply: FastifyReply, result: HealthAnswer): HealthCheckResult {
  void reply.status(result.ok ? 200 : 503).header('cache-control', 'no-store');
  return result.body;
}
