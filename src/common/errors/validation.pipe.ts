import { ValidationPipe } from '@nestjs/common';
import { AppException } from './app.exception';
import { ErrorCode } from './error-code';
import { validationDetails } from './validation-details';

/** An answer names at most this many fields: a body of a thousand bad keys gets a short reply. */
export const MAX_DETAILS = 20;

/** The global pipe: unknown fields rejected, the failed fields (at most 20) listed in `details`. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => validationFailed(validationDetails(errors)),
  });
}

/** 400 VALIDATION_FAILED naming at most MAX_DETAILS fields, in `message` and in `details`. */
export function validationFailed(all: ReturnType<typeof validationDetails>): AppException {
  const fields = [...new Set(all.map((detail) => detail.field))];
  const named = fields.slice(0, MAX_DETAILS).join(', ');
  const more = fields.length > MAX_DETAILS ? ` and ${fields.length - MAX_DETAILS} more` : '';
  return new AppException(
    ErrorCode.ValidationFailed,
    `The request is invalid: check ${named}${more}.`,
    all.slice(0, MAX_DETAILS),
  );
}
