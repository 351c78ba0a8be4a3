import { Controller, Get, Res } from '@nestjs/common';
import type { HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../../common/http/public.decorator';
import { HealthService, type HealthAnswer } from './health.service';

// Terminus' JSON is the answer for both 200 and 503 (probes and people read it as is).
@Public()
@Controller('api/v1/health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get()
  async overall(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return answer(reply, await this.health.overall());
  }

  @Get('live')
  async live(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return answer(reply, await this.health.live());
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    return answer(reply, await this.health.ready());
  }
}

function answer(reply: FastifyReply, result: HealthAnswer): HealthCheckResult {
  void reply.status(result.ok ? 200 : 503).header('cache-control', 'no-store');
  return result.body;
}
