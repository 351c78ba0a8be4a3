import { ValidateBy, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { normalizeWhatsappNumber } from '../../../common/phone';

const MAX_MEDIA = 10;
const MAX_VARIABLES = 100;
const MAX_VARIABLES_BYTES = 16 * 1024;
const MAX_METADATA_BYTES = 4 * 1024;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function has(args: ValidationArguments, property: string): boolean {
  return (args.object as Record<string, unknown>)[property] !== undefined;
}

/** `+E164` or `whatsapp:+E164`, syntax and possible number (never "valid number"). */
export function IsWhatsappNumber(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isWhatsappNumber',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && normalizeWhatsappNumber(value).ok,
        defaultMessage: (args) => {
          const value: unknown = args?.value;
          const check = typeof value === 'string' ? normalizeWhatsappNumber(value) : null;
          return check && !check.ok
            ? check.reason
            : 'to must be an E.164 number such as +14155550100';
        },
      },
    },
    options,
  );
}

/**
 * The free-form text: required unless mediaUrl or contentSid is given, 1–1600 characters, and
 * never together with contentSid (a template carries its own text).
 */
export function IsMessageText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isMessageText',
      validator: {
        validate: (value: unknown, args) => {
          if (value === undefined)
            return (
              has(args as ValidationArguments, 'mediaUrl') ||
              has(args as ValidationArguments, 'contentSid')
            );
          if (has(args as ValidationArguments, 'contentSid')) return false;
          return typeof value === 'string' && value.length >= 1 && value.length <= 1600;
        },
        defaultMessage: (args) => {
          if (args?.value === undefined) return 'give message, mediaUrl or contentSid';
          if (args && has(args, 'contentSid')) return 'message cannot be combined with contentSid';
          return 'message must be 1–1600 characters';
        },
      },
    },
    options,
  );
}

/** One https URL or an array of at most 10; not with contentSid. */
export function IsMediaUrls(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isMediaUrls',
      validator: {
        validate: (value: unknown, args) => {
          if (value === undefined) return true;
          if (has(args as ValidationArguments, 'contentSid')) return false;
          const urls = Array.isArray(value) ? value : [value];
          return urls.length >= 1 && urls.length <= MAX_MEDIA && urls.every(isHttpsUrl);
        },
        defaultMessage: (args) =>
          args && has(args, 'contentSid')
            ? 'mediaUrl cannot be combined with contentSid'
            : `mediaUrl must be an https URL or an array of 1–${MAX_MEDIA} https URLs`,
      },
    },
    options,
  );
}

function isHttpsUrl(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 2048) return false;
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

/** An object of string values, ≤ 100 keys, ≤ 16 KB serialised; only with contentSid. */
export function IsContentVariables(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isContentVariables',
      validator: {
        validate: (value: unknown, args) => {
          if (value === undefined) return true;
          if (!has(args as ValidationArguments, 'contentSid')) return false;
          if (!isPlainObject(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length <= MAX_VARIABLES &&
            entries.every(([, item]) => typeof item === 'string') &&
            Buffer.byteLength(JSON.stringify(value)) <= MAX_VARIABLES_BYTES
          );
        },
        defaultMessage: (args) =>
          args && !has(args, 'contentSid')
            ? 'contentVariables needs contentSid'
            : `contentVariables must be an object of string values (≤ ${MAX_VARIABLES} keys, ≤ 16 KB)`,
      },
    },
    options,
  );
}

/** Any JSON object of at most 4 KB serialised. */
export function IsSmallJsonObject(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSmallJsonObject',
      validator: {
        validate: (value: unknown) =>
          value === undefined ||
          (isPlainObject(value) && Buffer.byteLength(JSON.stringify(value)) <= MAX_METADATA_BYTES),
        defaultMessage: () => 'metadata must be a JSON object of at most 4 KB',
      },
    },
    options,
  );
}
