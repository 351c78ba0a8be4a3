import type { ApiKeysRepository } from './api-keys.repository';
import { AuthException } from './auth.exception';
import { AuthService } from './auth.service';
import type { UserEntity } from './entities/user.entity';
import type { LoginThrottleService } from './login-throttle.service';
import type { PasswordHasher } from './password-hasher';
import type { TokenService } from './token.service';
import type { UsersRepository } from './users.repository';

function setup(user: Partial<UserEntity> | null, passwordOk = true) {
  const users = { findByEmail: jest.fn().mockResolvedValue(user), findById: jest.fn() };
  const hasher = {
    verify: jest.fn().mockResolvedValue(passwordOk),
    verifyDummy: jest.fn().mockResolvedValue(false),
  };
  const tokens = {
    issue: jest.fn().mockResolvedValue({ accessToken: 't', tokenType: 'Bearer', expiresIn: 900 }),
  };
  const throttle = {
    take: jest.fn().mockResolvedValue(undefined),
    refund: jest.fn().mockResolvedValue(undefined),
  };
  const service = new AuthService(
    users as unknown as UsersRepository,
    {} as ApiKeysRepository,
    hasher as unknown as PasswordHasher,
    tokens as unknown as TokenService,
    throttle as unknown as LoginThrottleService,
  );
  return { service, users, hasher, tokens, throttle };
}

const USER = {
  id: 'u1',
  email: 'a@example.com',
  passwordHash: 'h',
  role: 'sender' as const,
  disabledAt: null,
};

describe('AuthService.login', () => {
  it('should spend a dummy verification on an unknown email, so it costs what a wrong password costs', async () => {
    const { service, hasher, throttle } = setup(null);
    await expect(service.login('Nobody@Example.com', 'pw', '1.2.3.4')).rejects.toThrow(
      AuthException,
    );
    expect(hasher.verifyDummy).toHaveBeenCalledWith('pw');
    expect(throttle.take).toHaveBeenCalledWith('1.2.3.4', 'nobody@example.com');
    expect(throttle.refund).not.toHaveBeenCalled();
  });

  it('should verify the real hash for a known email and count a wrong password', async () => {
    const { service, hasher, throttle } = setup(USER, false);
    await expect(service.login('a@example.com', 'bad', '1.2.3.4')).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(hasher.verify).toHaveBeenCalledWith('h', 'bad');
    expect(hasher.verifyDummy).not.toHaveBeenCalled();
    expect(throttle.take).toHaveBeenCalled();
    expect(throttle.refund).not.toHaveBeenCalled();
  });

  it('should refuse a disabled user with the same error, after the same verification', async () => {
    const { service, hasher } = setup({ ...USER, disabledAt: new Date() }, true);
    await expect(service.login('a@example.com', 'good', '1.2.3.4')).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: 'Invalid credentials.',
    });
    expect(hasher.verify).toHaveBeenCalled();
  });

  it('should count the attempt before checking the password and refund it on success', async () => {
    const { service, tokens, throttle, users } = setup(USER, true);
    await expect(service.login(' A@Example.com ', 'good', '1.2.3.4')).resolves.toMatchObject({
      tokenType: 'Bearer',
    });
    expect(tokens.issue).toHaveBeenCalledWith(USER);
    expect(throttle.take).toHaveBeenCalledWith('1.2.3.4', 'a@example.com');
    expect(throttle.take.mock.invocationCallOrder[0]).toBeLessThan(
      users.findByEmail.mock.invocationCallOrder[0],
    );
    expect(throttle.refund).toHaveBeenCalledWith('1.2.3.4', 'a@example.com');
  });

  it('should not check credentials at all once throttled', async () => {
    const { service, throttle, users } = setup(USER, true);
    throttle.take.mockRejectedValue(AuthException.tooManyAttempts(30));
    await expect(service.login('a@example.com', 'good', '1.2.3.4')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    expect(users.findByEmail).not.toHaveBeenCalled();
  });
});
