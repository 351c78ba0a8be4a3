import { setTimeout as sleep } from 'node:timers/promises';
import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../../common/http/public.decorator';
import { EchoDto } from './dto/echo.dto';

const MAX_SLOW_MS = 60_000;

/**
 * Routes that exercise the error filter, validation and graceful shutdown from outside the
 * process. Loaded only when TEST_ERROR_ROUTE=on, which production refuses at boot; not part of
 * the contract, so not in the OpenAPI document either.
 */
@Public()
@ApiExcludeController()
@Controller('api/v1/__test')
export class DiagnosticsController {
  @Get('error')
  error(): never {
    throw new Error('Deliberate failure from the diagnostics route');
  }

  @Get('slow')
  async slow(@Query('ms') ms?: string): Promise<{ waitedMs: number }> {
    const waitedMs = Math.min(Math.max(Number(ms) || 0, 0), MAX_SLOW_MS);
    await sleep(waitedMs);
    return { waitedMs };
  }

  @Post('echo')
  @HttpCode(200)
  echo(@Body() body: EchoDto): EchoDto {
    return body;
  }
}
