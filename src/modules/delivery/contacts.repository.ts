import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ContactEntity } from './entities/contact.entity';

/** A contact's window and opt-out, as the send policy reads them. */
export interface ContactSendState {
  lastInboundAt: Date | null;
  optedOutAt: Date | null;
}

@Injectable()
export class ContactsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** `phone` in E.164 (`+14155550100`). */
  findByPhone(phone: string): Promise<ContactEntity | null> {
    return this.dataSource.getRepository(ContactEntity).findOneBy({ phone });
  }

  /**
   * What a send decision needs of each number (window and opt-out), in one query for many
   * numbers; null for a number with no contact. In order.
   */
  async sendStateOf(phones: readonly string[]): Promise<(ContactSendState | null)[]> {
    const rows = await this.dataSource.query<(ContactSendState & { phone: string })[]>(
      `SELECT phone, last_inbound_at AS "lastInboundAt", opted_out_at AS "optedOutAt"
         FROM contacts WHERE phone = ANY($1::text[])`,
      [[...new Set(phones)]],
    );
    const byPhone = new Map(rows.map(({ phone, ...state }) => [phone, state]));
    return phones.map((phone) => byPhone.get(phone) ?? null);
  }

  async setOptedOut(phone: string, optedOut: boolean, at: Date = new Date()): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO contacts (phone, opted_out_at) VALUES ($1, $2)
       ON CONFLICT (phone) DO UPDATE SET opted_out_at = $2, updated_at = now()`,
      [phone, optedOut ? at : null],
    );
  }
}
