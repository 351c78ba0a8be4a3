import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { LogController } from 'fastify';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { initErrorTracking } from './common/error-tracking/error-tracking';
import { createValidationPipe } from './common/errors/validation.pipe';
import { registerHttpHooks, registerSecurityHooks } from './common/http/http-hooks';
import { clientErrorHandler, frameworkErrors } from './common/http/framework-errors';
import { JSON_BODY_LIMIT_BYTES, registerInputLimits } from './common/http/input-limits';
import { requestIdFor } from './common/http/request-id';
import { registerSecurityHeaders } from './common/http/security-headers';
import { NestPinoLogger } from './common/logging/nest-logger';
import type { AppConfig } from './config/app-config';
import { HttpMetricsService } from './modules/metrics/http-metrics.service';

/** Builds and initialises the application for a config (not listening yet). */
export async function createApp(
  config: AppConfig,
  logger: Logger,
): Promise<NestFastifyApplication> {
  await initErrorTracking(config, logger);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // One line per request comes from http-hooks.ts, not Fastify's two.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'requestId',
    }),
    genReqId: requestIdFor,
    // Answers Fastify and Node give on their own, before any hook: in the error shape too.
    frameworkErrors,
    clientErrorHandler,
    trustProxy: config.trustProxy,
    bodyLimit: JSON_BODY_LIMIT_BYTES,
    return503OnClosing: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config),
    adapter,
    // Body parsers are ours (input-limits.ts): bounded before they parse.
    { bufferLogs: true, bodyParser: false, abortOnError: false },
  );
  app.useLogger(new NestPinoLogger(logger));
  app.useGlobalFilters(new AllExceptionsFilter());
  app.useGlobalPipes(createValidationPipe());
  const fastify = app.getHttpAdapter().getInstance();
  registerHttpHooks(fastify, app.get(HttpMetricsService));
  registerSecurityHooks(fastify, { enforceHttps: config.isProduction });
  // Before app.init(), which registers the routes: limits are set per route as it is added.
  registerInputLimits(fastify);
  // HSTS and the usual security headers on every answer.
  registerSecurityHeaders(fastify, { hsts: { maxAge: 31_536_000, includeSubDomains: true } });
  if (config.docsEnabled && config.role !== 'worker') {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('whatsapp-backend')
        .setDescription('Send WhatsApp messages through Twilio and track what became of each.')
        .setVersion('1')
        .addBearerAuth()
        .addBasicAuth({ type: 'http', scheme: 'basic' }, 'metrics')
        .build(),
    );
    // /docs and /docs-json, public (docs/api.md §4.10); off in production unless
    // DOCS_ENABLED=on.
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  }
  await app.init();
  return app;
}
