import { Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import type { HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../../common/http/public.decorator';
import { Roles } from '../auth/roles.decorator';
import { HealthDetailsGuard } from './health-details.guard';
import type { HealthAnswer } from './health-answer';
import { HealthService } from './health.service';

// The probes are public and carry statuses only; terminus' JSON is the answer for both 200 and
// 503 (probes and people read it as is). What each check said is behind /details, for admins.
@Controller('api/v1/health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Public()
  @Get()
  async overall(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return answer(reply, await this.health.overall());
  }

  @Public()
  @Get('live')
  async live(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return answer(reply, await this.health.live());
  }

  @Public()
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return answer(reply, await this.health.ready());
  }

  /** 200 whatever the dependencies say: this reports on them, the probes above judge. */
  @Get('details')
  @Roles('admin')
  @UseGuards(HealthDetailsGuard)
  @Header('cache-control', 'no-store')
  details(): Promise<HealthCheckResult> {
    return this.health.details();
  }
}

function answer(reply: FastifyReply, result: HealthAnswer): HealthCheckResult {
  void reply.status(result.ok ? 200 : 503).header('cache-control', 'no-store');
  return result.body;
}
