// The OpenAPI side of the HTTP contract's error shape (docs/api.md §2): one schema for every
// error answer, and a decorator with which each route states the codes it answers.
import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiSchema,
  getSchemaPath,
  type HeadersObject,
} from '@nestjs/swagger';
import { AppException, type FieldError } from '../errors/app.exception';
import { ERROR_STATUS, ErrorCode } from '../errors/error-code';
import { mapError, type ErrorBody } from '../errors/error-response';

@ApiSchema({ name: 'FieldError' })
export class FieldErrorSchema implements FieldError {
  @ApiProperty({
    description: 'The field: `a.b` for a nested one, `a[0]` for an array item, or a header.',
    example: 'to',
  })
  field!: string;

  @ApiProperty({ example: 'to must be an E.164 number such as +14155550100' })
  message!: string;
}

@ApiSchema({
  name: 'ErrorBody',
  description: 'Every error answer, on every route (docs/api.md §2).',
})
export class ErrorBodySchema implements ErrorBody {
  @ApiProperty({ type: 'integer', description: 'The HTTP status.', example: 422 })
  statusCode!: number;

  @ApiProperty({ description: "The status' name.", example: 'Unprocessable Entity' })
  error!: string;

  @ApiProperty({
    enum: ErrorCode,
    enumName: 'ErrorCode',
    description: 'Stable identifier: branch on this.',
    example: ErrorCode.WindowClosed,
  })
  code!: ErrorCode;

  @ApiProperty({ description: 'One human sentence; may change.' })
  message!: string;

  @ApiPropertyOptional({
    type: () => FieldErrorSchema,
    isArray: true,
    maxItems: 20,
    description: 'Only on VALIDATION_FAILED, when fields can be named.',
  })
  details?: FieldErrorSchema[];

  @ApiProperty({
    description: "The request's id (X-Request-Id).",
    example: '9f0c7d3e-2b1a-4f5e-8c6d-7a8b9c0d1e2f',
  })
  requestId!: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: "Only on 500: also in the server's log line; quote it when reporting.",
  })
  errorId?: string;
}

/** When each code is answered, and an example message (the real texts may differ). */
const CODES: Readonly<Record<ErrorCode, { when: string; message: string }>> = {
  [ErrorCode.BadRequest]: {
    when: 'a malformed request: malformed or empty JSON, a webhook without its required fields, a value the database cannot store',
    message: 'The request contains a value that cannot be stored.',
  },
  [ErrorCode.ValidationFailed]: {
    when: 'the body, query or a header breaks its rules (unknown fields included); `details` names the fields when it can',
    message: 'The request is invalid: check to.',
  },
  [ErrorCode.Unauthorized]: {
    when: 'no, bad or expired credentials',
    message: 'A bearer token is required.',
  },
  [ErrorCode.Forbidden]: {
    when: 'valid token, role not allowed',
    message: 'Your role does not allow this.',
  },
  [ErrorCode.NotFound]: {
    when: 'unknown or malformed id',
    message: 'Not found.',
  },
  [ErrorCode.MethodNotAllowed]: {
    when: 'a framework 405',
    message: 'Method Not Allowed.',
  },
  [ErrorCode.Conflict]: { when: 'a framework 409', message: 'Conflict.' },
  [ErrorCode.EmailTaken]: {
    when: 'a user with this email exists (case-insensitive)',
    message: 'A user with this email already exists.',
  },
  [ErrorCode.LastAdmin]: {
    when: 'the change would leave no enabled admin',
    message: 'This would leave no active admin; promote another admin first.',
  },
  [ErrorCode.PayloadTooLarge]: {
    when: "the body is over the route's limit",
    message: 'Request body is too large.',
  },
  [ErrorCode.UnsupportedMediaType]: {
    when: 'the body is not in a content type the route accepts',
    message: 'Unsupported Media Type.',
  },
  [ErrorCode.WindowClosed]: {
    when: "a free-form send (text or media) outside the contact's 24-hour window",
    message:
      'The 24-hour WhatsApp window with this contact is closed (no message from them in the last 24 hours); send an approved template with contentSid instead.',
  },
  [ErrorCode.RecipientOptedOut]: {
    when: 'the contact opted out (STOP)',
    message:
      'This contact has opted out of messages (STOP); nothing is sent until they opt back in.',
  },
  [ErrorCode.IdempotencyKeyReused]: {
    when: 'the Idempotency-Key was used with another body',
    message:
      'This Idempotency-Key was used with a different request body; use a new key for a new request.',
  },
  [ErrorCode.IdempotencyKeyInFlight]: {
    when: 'the first request with this Idempotency-Key is still running (`Retry-After: 1`)',
    message: 'A request with this Idempotency-Key is still being processed; retry in a moment.',
  },
  [ErrorCode.RateLimited]: {
    when: 'a rate limit (`Retry-After` says when to retry)',
    message: 'Too many requests; retry later.',
  },
  [ErrorCode.BadSignature]: {
    when: 'Twilio webhook with a missing or wrong X-Twilio-Signature',
    message: 'The X-Twilio-Signature header is missing or does not match.',
  },
  [ErrorCode.HttpsRequired]: {
    when: 'production, a plain-HTTP request',
    message: 'Use HTTPS.',
  },
  [ErrorCode.NotRetryable]: {
    when: 'the message is not `failed` with a retryable last error',
    message: 'Only a failed message whose last error is retryable can be retried.',
  },
  [ErrorCode.ServiceUnavailable]: {
    when: 'the database cannot serve or store this now (`Retry-After: 5`)',
    message: 'The database cannot serve this read now; retry later or narrow the query.',
  },
  [ErrorCode.Internal]: {
    when: 'a fault of ours; quote `errorId`',
    message: 'An unexpected error occurred; quote the errorId when reporting it.',
  },
};

const EXAMPLE_REQUEST_ID = '9f0c7d3e-2b1a-4f5e-8c6d-7a8b9c0d1e2f';
const EXAMPLE_DETAILS: FieldError[] = [
  { field: 'to', message: 'to must be an E.164 number such as +14155550100' },
];

/** What the error filter answers for a code, built by the filter's own mapping. */
function exampleBody(code: ErrorCode): ErrorBody {
  if (code === ErrorCode.Internal) {
    const { body } = mapError(new Error('example'));
    return { ...body, requestId: EXAMPLE_REQUEST_ID, errorId: EXAMPLE_REQUEST_ID };
  }
  const details = code === ErrorCode.ValidationFailed ? EXAMPLE_DETAILS : undefined;
  const { body } = mapError(new AppException(code, CODES[code].message, details));
  return { ...body, requestId: EXAMPLE_REQUEST_ID };
}

const STRING = { type: 'string' } as const;

function headersFor(status: number, codes: readonly ErrorCode[]): HeadersObject {
  const headers: HeadersObject = {
    'X-Request-Id': {
      description: "The request's id, also in the body.",
      required: true,
      schema: STRING,
    },
  };
  if (status === 401) {
    headers['WWW-Authenticate'] = {
      description: 'The scheme to authenticate with (absent on a failed login).',
      schema: STRING,
    };
  }
  const always = status === 429 || status === 503;
  if (always || codes.includes(ErrorCode.IdempotencyKeyInFlight)) {
    headers['Retry-After'] = {
      description: 'Seconds to wait before retrying.',
      required: always,
      schema: { type: 'integer' },
    };
  }
  return headers;
}

/** One response per status: the ErrorBody schema with `code` narrowed, one example per code. */
function errorResponses(codes: readonly ErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = ERROR_STATUS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses = [...byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, list]) =>
      ApiResponse({
        status,
        description: list.map((code) => `\`${code}\`: ${CODES[code].when}.`).join('\n\n'),
        headers: headersFor(status, list),
        content: {
          'application/json': {
            schema: {
              allOf: [
                { $ref: getSchemaPath(ErrorBodySchema) },
                {
                  type: 'object',
                  required: ['statusCode', 'code'],
                  properties: {
                    statusCode: { type: 'integer', enum: [status] },
                    code: { type: 'string', enum: list },
                  },
                },
              ],
            },
            examples: Object.fromEntries(
              list.map((code) => [code, { summary: CODES[code].when, value: exampleBody(code) }]),
            ),
          },
        },
      }),
    );
  return applyDecorators(ApiExtraModels(ErrorBodySchema, FieldErrorSchema), ...responses);
}

/**
 * The error answers of a route: the codes given, plus what every route but the public health
 * probes and /metrics may answer (403 HTTPS_REQUIRED in production, 500 INTERNAL).
 */
export function ApiErrors(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  return errorResponses([...codes, ErrorCode.HttpsRequired, ErrorCode.Internal]);
}

/** The public health probes and /metrics, served over plain HTTP in production too. */
export function ApiErrorsHttpsExempt(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  return errorResponses([...codes, ErrorCode.Internal]);
}

/** What a JSON body can be refused for before the handler sees it (docs/api.md §3). */
export const JSON_BODY_ERRORS: readonly ErrorCode[] = [
  ErrorCode.BadRequest,
  ErrorCode.ValidationFailed,
  ErrorCode.PayloadTooLarge,
  ErrorCode.UnsupportedMediaType,
];
