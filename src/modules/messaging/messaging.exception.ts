import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';

export class MessagingException extends AppException {
  static windowClosed(): MessagingException {
    return new MessagingException(
      ErrorCode.WindowClosed,
      'The 24-hour WhatsApp window with this contact is closed (no message from them in the last 24 hours); send an approved template with contentSid instead.',
    );
  }

  static optedOut(): MessagingException {
    return new MessagingException(
      ErrorCode.RecipientOptedOut,
      'This contact has opted out of messages (STOP); nothing is sent until they opt back in.',
    );
  }

  static idempotencyKeyReused(): MessagingException {
    return new MessagingException(
      ErrorCode.IdempotencyKeyReused,
      'This Idempotency-Key was used with a different request body; use a new key for a new request.',
    );
  }

  static idempotencyKeyInFlight(): MessagingException {
    return new MessagingException(
      ErrorCode.IdempotencyKeyInFlight,
      'A request with this Idempotency-Key is still being processed; retry in a moment.',
      undefined,
      { 'retry-after': '1' },
    );
  }

  static invalidIdempotencyKey(): MessagingException {
    return new MessagingException(
      ErrorCode.ValidationFailed,
      'The Idempotency-Key header is invalid.',
      [
        {
          field: 'Idempotency-Key',
          message: 'Idempotency-Key must be 1–255 printable ASCII characters',
        },
      ],
    );
  }

  static notRetryable(): MessagingException {
    return new MessagingException(
      ErrorCode.NotRetryable,
      'Only a failed message whose last error is retryable can be retried.',
    );
  }

  static notStored(): MessagingException {
    return new MessagingException(
      ErrorCode.ServiceUnavailable,
      'The message could not be stored now; nothing was sent. Retry later.',
      undefined,
      { 'retry-after': '5' },
    );
  }
}
