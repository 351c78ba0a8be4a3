import { Injectable } from '@nestjs/common';
import { AuthException } from './auth.exception';
import type { UserEntity, UserRole } from './entities/user.entity';
import { PasswordHasher } from './password-hasher';
import { PrincipalService } from './principal.service';
import { EmailTakenError, UsersRepository } from './users.repository';

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly principals: PrincipalService,
  ) {}

  async create(email: string, password: string, role: UserRole): Promise<UserEntity> {
    try {
      return await this.users.create(email.trim(), await this.hasher.hash(password), role);
    } catch (error) {
      if (error instanceof EmailTakenError) throw AuthException.emailTaken();
      throw error;
    }
  }

  list(): Promise<UserEntity[]> {
    return this.users.listAll();
  }

  async update(id: string, change: { role?: UserRole; disabled?: boolean }): Promise<UserEntity> {
    const result = await this.users.update(id, change);
    if (result === 'not-found') throw AuthException.notFound('User');
    if (result === 'last-admin') throw AuthException.lastAdmin();
    // This replica applies the change to the user's tokens at once.
    this.principals.forgetUser(id);
    return result;
  }

  /** Creates the first admin from ADMIN_EMAIL/ADMIN_PASSWORD unless an admin exists. */
  async ensureFirstAdmin(email: string, password: string): Promise<boolean> {
    return this.users.createFirstAdmin(email.trim(), await this.hasher.hash(password));
  }
}
