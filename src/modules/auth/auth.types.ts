import type { UserRole } from './entities/user.entity';

/** Who is calling, as the guard established it (attached to the request). */
export interface Principal {
  userId: string;
  email: string;
  role: UserRole;
  /** Set when the token was traded for an API key. */
  apiKeyId: string | null;
}

export interface AccessToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** The claims we sign. `role` is informational: the guard reads the current role from the database. */
export interface TokenClaims {
  sub: string;
  role: UserRole;
  akid?: string;
}

export const JWT_ISSUER = 'whatsapp-backend';
export const JWT_AUDIENCE = 'whatsapp-backend-api';
/** Clock skew allowed on exp/nbf/iat. */
export const JWT_CLOCK_TOLERANCE_S = 30;
