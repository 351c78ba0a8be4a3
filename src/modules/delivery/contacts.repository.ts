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

  async setOptedOut(phone: string, optedOut: boolean, at: Date = new Date()): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO contacts (phone, opted_out_at) VALUES ($1, $2)
       ON CONFLICT (phone) DO UPDATE SET opted_out_at = $2, updated_at = now()`,
      [phone, optedOut ? at : null],
    );
  }
}
