import { AppException } from '../../common/errors/app.exception';
import { ErrorCode } from '../../common/errors/error-code';

/** The auth module's errors; the global filter maps each code to its status. */
export class AuthException extends AppException {
  static invalidCredentials(): AuthException {
    return new AuthException(ErrorCode.Unauthorized, 'Invalid credentials.');
  }

  static missingToken(): AuthException {
    return new AuthException(ErrorCode.Unauthorized, 'A bearer token is required.', undefined, {
      'www-authenticate': 'Bearer',
    });
  }

  static invalidToken(): AuthException {
    return new AuthException(
      ErrorCode.Unauthorized,
      'The bearer token is invalid or expired.',
      undefined,
      { 'www-authenticate': 'Bearer error="invalid_token"' },
    );
  }

  static forbidden(): AuthException {
    return new AuthException(ErrorCode.Forbidden, 'Your role does not allow this.');
  }

  static tooManyAttempts(retryAfterSeconds: number): AuthException {
    return new AuthException(
      ErrorCode.RateLimited,
      'Too many failed attempts; try again later.',
      undefined,
      { 'retry-after': String(retryAfterSeconds) },
    );
  }

  static emailTaken(): AuthException {
    return new AuthException(ErrorCode.EmailTaken, 'A user with this email already exists.');
  }

  static lastAdmin(): AuthException {
    return new AuthException(
      ErrorCode.LastAdmin,
      'This would leave no active admin; promote another admin first.',
    );
  }

  static notFound(what: string): AuthException {
    return new AuthException(ErrorCode.NotFound, `${what} not found.`);
  }
}
