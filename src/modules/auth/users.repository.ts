import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { UserEntity, type UserRole } from './entities/user.entity';

const UNIQUE_VIOLATION = '23505';
// One key for "create the first admin", so replicas starting together create one.
const FIRST_ADMIN_LOCK = 7_362_001;

export class EmailTakenError extends Error {}

@Injectable()
export class UsersRepository {
  constructor(private readonly dataSource: DataSource) {}

  findById(id: string): Promise<UserEntity | null> {
    return this.dataSource.getRepository(UserEntity).findOneBy({ id });
  }

  findByEmail(email: string): Promise<UserEntity | null> {
    return this.dataSource.getRepository(UserEntity).findOneBy({ email: email.toLowerCase() });
  }

  listAll(): Promise<UserEntity[]> {
    return this.dataSource.getRepository(UserEntity).find({ order: { createdAt: 'ASC' } });
  }

  async create(email: string, passwordHash: string, role: UserRole): Promise<UserEntity> {
    try {
      return await this.dataSource
        .getRepository(UserEntity)
        .save({ email: email.toLowerCase(), passwordHash, role, disabledAt: null });
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new EmailTakenError();
      throw error;
    }
  }

  /** Creates the admin unless an admin exists; true when this call created it. */
  async createFirstAdmin(email: string, passwordHash: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [FIRST_ADMIN_LOCK]);
      const admins = await manager.getRepository(UserEntity).countBy({ role: 'admin' });
      if (admins > 0) return false;
      const inserted = await manager.query<unknown[]>(
        `INSERT INTO users (email, password_hash, role) VALUES ($1, $2, 'admin')
         ON CONFLICT ((lower(email))) DO NOTHING RETURNING id`,
        [email.toLowerCase(), passwordHash],
      );
      return inserted.length > 0;
    });
  }

  /**
   * Applies a role change and/or (dis|en)abling, refusing to leave no active admin. The count
   * and the update run under one lock, so two admins demoting each other cannot both succeed.
   */
  async update(
    id: string,
    change: { role?: UserRole; disabled?: boolean },
  ): Promise<UserEntity | 'not-found' | 'last-admin'> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [FIRST_ADMIN_LOCK]);
      const users = manager.getRepository(UserEntity);
      const user = await users.findOneBy({ id });
      if (!user) return 'not-found';
      const role = change.role ?? user.role;
      const disabledAt =
        change.disabled === undefined
          ? user.disabledAt
          : change.disabled
            ? (user.disabledAt ?? new Date())
            : null;
      if (
        user.role === 'admin' &&
        user.disabledAt === null &&
        (role !== 'admin' || disabledAt !== null)
      ) {
        if ((await this.activeAdmins(manager)) <= 1) return 'last-admin';
      }
      await users.update({ id }, { role, disabledAt });
      return { ...user, role, disabledAt };
    });
  }

  private activeAdmins(manager: EntityManager): Promise<number> {
    return manager.getRepository(UserEntity).countBy({ role: 'admin', disabledAt: IsNull() });
  }
}
