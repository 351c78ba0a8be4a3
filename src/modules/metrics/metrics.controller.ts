import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiSecurity } from '@nestjs/swagger';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import type { FastifyReply } from 'fastify';
import { ErrorCode } from '../../common/errors/error-code';
import { ApiErrorsHttpsExempt } from '../../common/http/openapi';
import { Public } from '../../common/http/public.decorator';
import { MetricsAuthGuard } from './metrics-auth.guard';

@Public()
@Controller()
export class MetricsController extends PrometheusController {
  @Get()
  @UseGuards(MetricsAuthGuard)
  @ApiOperation({ summary: 'Prometheus metrics (docs/api.md §6)' })
  // Basic auth when METRICS_AUTH=user:pass, else open.
  @ApiSecurity('metrics')
  @ApiSecurity({})
  @ApiOkResponse({
    description: 'The Prometheus text exposition format.',
    content: {
      'text/plain': {
        schema: {
          type: 'string',
          example:
            '# HELP http_request_duration_seconds HTTP request duration by method, route pattern and status.\n# TYPE http_request_duration_seconds histogram\n',
        },
      },
    },
  })
  @ApiErrorsHttpsExempt(ErrorCode.Unauthorized)
  override async index(@Res({ passthrough: true }) response: FastifyReply): Promise<string> {
    return super.index(response);
  }
}
