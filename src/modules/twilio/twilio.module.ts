import { Module } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { TwilioClient } from './twilio.client';
import { TwilioSignatureValidator } from './twilio-signature.validator';
import { TWILIO_API_TIMEOUT_MS } from './twilio.types';

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
          timeoutMs: TWILIO_API_TIMEOUT_MS,
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
