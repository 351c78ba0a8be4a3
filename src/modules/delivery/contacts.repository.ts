import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ContactEntity } from './entities/contact.entity';

@Injectable()
export class ContactsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** `phone` in E.164 (`+14155550100`). */
  findByPhone(phone: string): Promise<ContactEntity | null> {
    return this.dataSource.getRepository(ContactEntity).findOneBy({ phone });
  }

  /** Records an inbound message: opens the 24-hour window (never moves it back in time). */
  async recordInbound(
    phone: string,
    at: Date,
    profile: { waId?: string; profileName?: string } = {},
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO contacts (phone, wa_id, profile_name, last_inbound_at)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (phone) DO UPDATE SET
         wa_id = COALESCE(EXCLUDED.wa_id, contacts.wa_id),
         profile_name = COALESCE(EXCLUDED.profile_name, contacts.profile_name),
         last_inbound_at = GREATEST(contacts.last_inbound_at, EXCLUDED.last_inbound_at),
         updated_at = now()`,
      [phone, profile.waId ?? null, profile.profileName ?? null, at],
    );
  }

  async setOptedOut(phone: string, optedOut: boolean, at: Date = new Date()): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO contacts (phone, opted_out_at) VALUES ($1, $2)
       ON CONFLICT (phone) DO UPDATE SET opted_out_at = $2, updated_at = now()`,
      [phone, optedOut ? at : null],
    );
  }
}
