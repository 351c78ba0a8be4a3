import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ContactEntity } from '../entities/contact.entity';
import type { ContactSendState } from '../delivery.types';

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

  /**
   * Erases what the service holds about one number, in one transaction (ContactsService.erase
   * says what and why): the contact row, the personal fields of the messages to or from
   * `address` (renamed `pseudonym`), the payloads and error texts of their events and of orphan
   * callbacks naming the number.
   */
  async erase(phone: string, address: string, pseudonym: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const erased = await manager.query<{ id: string }[]>(
        `SELECT id FROM whatsapp_messages WHERE "to" = $1 OR "from" = $1`,
        [address],
      );
      const ids = erased.map((row) => row.id);
      await manager.query(
        `UPDATE whatsapp_messages
            SET body = NULL, media_urls = '[]'::jsonb, content_variables = NULL, metadata = NULL,
                reference = NULL, error_message = NULL,
                "to" = CASE WHEN "to" = $1 THEN $2 ELSE "to" END,
                "from" = CASE WHEN "from" = $1 THEN $2 ELSE "from" END,
                updated_at = now()
          WHERE id = ANY($3)`,
        [address, pseudonym, ids],
      );
      await manager.query(
        `UPDATE message_status_logs SET payload = NULL, error_message = NULL
          WHERE message_id = ANY($1)`,
        [ids],
      );
      await manager.query('UPDATE events SET error_message = NULL WHERE message_id = ANY($1)', [
        ids,
      ]);
      // Callbacks for messages we never knew: only their payload names the number.
      await manager.query(
        `UPDATE message_status_logs SET payload = NULL, error_message = NULL
          WHERE message_id IS NULL AND payload IS NOT NULL
            AND (payload->>'To' = ANY($1) OR payload->>'From' = ANY($1))`,
        [[address, phone]],
      );
      await manager.query('DELETE FROM contacts WHERE phone = $1', [phone]);
    });
  }
}
