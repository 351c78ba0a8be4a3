import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { DEV_ADMIN_PASSWORD } from '../../config/dev-defaults';
import { UsersService } from './users.service';

/** Creates the first admin once (ADMIN_EMAIL/ADMIN_PASSWORD) when no admin exists yet. */
@Injectable()
export class FirstAdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(FirstAdminBootstrap.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UsersService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { email, password } = this.config.admin;
    if (email === undefined || password === undefined) return;
    if (!(await this.users.ensureFirstAdmin(email, password))) return;
    if (!this.config.isProduction && password === DEV_ADMIN_PASSWORD) {
      // The development default is public (.env.example); say it once so a newcomer can log in.
      this.logger.log(`Created the first admin: log in as ${email} with "${DEV_ADMIN_PASSWORD}"`);
    } else {
      this.logger.log({ email }, 'Created the first admin from ADMIN_EMAIL');
    }
  }
}
