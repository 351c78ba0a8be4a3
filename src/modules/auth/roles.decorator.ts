import { SetMetadata } from '@nestjs/common';
import type { UserRole } from './entities/user.entity';

export const ROLES = 'roles';

/** Only these roles may call the route (default: any authenticated role). */
export const Roles = (...roles: UserRole[]): ClassDecorator & MethodDecorator =>
  SetMetadata(ROLES, roles);
