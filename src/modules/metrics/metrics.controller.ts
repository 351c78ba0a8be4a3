import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { FastifyReply } from 'fastify';
import { Public } from '../../common/http/public.decorator';
import { MetricsAuthGuard } from './metrics-auth.guard';

@Public()
@Controller()
export class MetricsController extends PrometheusController {
  @Get()
  @UseGuards(MetricsAuthGuard)
  override async index(@Res({ passthrough: true }) response: FastifyReply): Promise<string> {
    return super.index(response);
  }
}
