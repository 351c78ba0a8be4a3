import { Module } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { TwilioClient } from './twilio.client';
import { TwilioSignatureValidator } from './twilio-signature.validator';

const API_TIMEOUT_MS = 10_000;

/** The only module that imports the `twilio` package (docs/architecture.md §2). */
@Module({
  providers: [
    {
      provide: TwilioClient,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new TwilioClient({
          accountSid: config.twilio.accountSid,
          authToken: config.twilio.authToken,
          apiBaseUrl: config.twilio.apiBaseUrl,
          timeoutMs: API_TIMEOUT_MS,
        }),
    },
    {
      provide: TwilioSignatureValidator,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new TwilioSignatureValidator(config.twilio.authToken, config.twilio.authTokenPrevious),
    },
  ],
  exports: [TwilioClient, TwilioSignatureValidator],
})
export class TwilioModule {}
