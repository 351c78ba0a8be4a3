import { type ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';
import { AppException } from './app.exception';
import { ErrorCode } from './error-code';
import { validationDetails } from './validation-details';

/** An answer names at most this many fields: a body of a thousand bad keys gets a short reply. */
export const MAX_DETAILS = 20;

/**
 * The global pipe: unknown fields rejected, the failed fields (at most 20) listed in `details`.
 * A body with more unknown top-level fields than an answer can name is refused before
 * class-transformer copies it (its cost grows faster than the key count).
 */
class BoundedValidationPipe extends ValidationPipe {
  private readonly known = new WeakMap<object, ReadonlySet<string>>();

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype } = metadata;
    if (
      metatype !== undefined &&
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      this.toValidate(metadata)
    ) {
      const known = this.knownProperties(metatype);
      const unknown = Object.keys(value).filter((key) => !known.has(key));
      if (known.size > 0 && unknown.length > MAX_DETAILS) {
        throw validationFailed(
          unknown.map((field) => ({ field, message: `property ${field} should not exist` })),
        );
      }
    }
    return super.transform(value, metadata);
  }

  private knownProperties(metatype: object): ReadonlySet<string> {
    let known = this.known.get(metatype);
    if (known === undefined) {
      const metadatas = getMetadataStorage().getTargetValidationMetadatas(
        metatype as new () => unknown,
        '',
        true,
        false,
      );
      known = new Set(metadatas.map((entry) => entry.propertyName));
      this.known.set(metatype, known);
    }
    return known;
  }
}

export function createValidationPipe(): ValidationPipe {
  return new BoundedValidationPipe({
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
