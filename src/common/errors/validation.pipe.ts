import { ValidationPipe } from '@nestjs/common';
import { AppException } from './app.exception';
import { ErrorCode } from './error-code';
import { validationDetails } from './validation-details';

/** The global pipe: unknown fields rejected, every failed field listed in `details`. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const details = validationDetails(errors);
      const fields = [...new Set(details.map((detail) => detail.field))].join(', ');
      return new AppException(
        ErrorCode.ValidationFailed,
        `The request is invalid: check ${fields}.`,
        details,
      );
    },
  });
}
