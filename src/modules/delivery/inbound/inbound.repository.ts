import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { afterInbound, type ContactState } from '../contacts/contact-moves';
import type { InboundMessage, InboundOutcome } from '../delivery.types';

/**
 * Inbound messages: stored once per MessageSid (the unique index decides: the one INSERT … ON
 * CONFLICT of the writers), and in the same transaction each contact's window opened and opt-out
 * keywords applied the one way: the contacts locked (`FOR UPDATE`, phone order), decided in
 * TypeScript (contact-moves.ts), stored with one plain statement. Many messages go in one
 * transaction with multi-row statements; the outcome is that of storing them one at a time in
 * order (a repeated MessageSid is a duplicate after its first; a contact ends as the last of its
 * messages left it).
 */
@Injectable()
export class InboundRepository {
  constructor(private readonly dataSource: DataSource) {}

  recordMany(items: readonly { message: InboundMessage; at: Date }[]): Promise<InboundOutcome[]> {
    return this.dataSource.transaction(async (manager) => {
      const stored = await this.insertMessages(manager, items);
      const news = items.filter((_item, index) => stored[index]);
      if (news.length > 0) await this.updateContacts(manager, news);
      return stored.map((isNew) => (isNew ? 'stored' : 'duplicate'));
    });
  }

  /**
   * Messages, their `received` log rows and their `message.inbound` events in one statement, and a bare contact row for each new
   * message's sender that has none (so the next statement has a row to lock); which of the items
   * were new.
   */
  private async insertMessages(
    manager: EntityManager,
    items: readonly { message: InboundMessage; at: Date }[],
  ): Promise<boolean[]> {
    const rows = await manager.query<{ ord: string }[]>(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[],
                              $6::jsonb[], $7::jsonb[], $8::text[], $9::timestamptz[], $10::text[])
                  WITH ORDINALITY AS u(twilio_sid, "from", "to", body, media_urls, metadata,
                                       payload, idempotency_token, received_at, phone, ord)
       ), created AS (
         INSERT INTO whatsapp_messages
           (direction, twilio_sid, "from", "to", body, media_urls, metadata, status, attempts,
            max_attempts, event_sequence)
         SELECT 'inbound', twilio_sid, "from", "to", body, media_urls, metadata, 'received', 0, 0,
                1
           FROM input ORDER BY ord
         ON CONFLICT (twilio_sid) DO NOTHING
         RETURNING id, twilio_sid
       ), firsts AS (
         SELECT DISTINCT ON (created.id) created.id, input.*
           FROM created JOIN input ON input.twilio_sid = created.twilio_sid
          ORDER BY created.id, input.ord
       ), logged AS (
         INSERT INTO message_status_logs
           (message_id, twilio_sid, status, source, applied, payload, idempotency_token,
            received_at)
         SELECT id, twilio_sid, 'received', 'callback', true, payload, idempotency_token,
                received_at
           FROM firsts
         ON CONFLICT DO NOTHING
       ), evented AS (
         INSERT INTO events (type, message_id, sequence, status, occurred_at)
         SELECT 'message.inbound', id, 1, 'received', received_at FROM firsts
       ), contacted AS (
         INSERT INTO contacts (phone)
         SELECT DISTINCT phone FROM firsts ORDER BY phone
         ON CONFLICT (phone) DO NOTHING
       )
       SELECT ord FROM firsts`,
      [
        items.map(({ message }) => message.twilioSid),
        items.map(({ message }) => message.from),
        items.map(({ message }) => message.to),
        items.map(({ message }) => message.body),
        items.map(({ message }) => JSON.stringify(message.mediaUrls)),
        items.map(({ message }) => JSON.stringify(message.metadata)),
        items.map(({ message }) => JSON.stringify(message.payload)),
        items.map(({ message }) => message.idempotencyToken),
        items.map(({ at }) => at),
        items.map(({ message }) => message.phone),
      ],
    );
    const stored = items.map(() => false);
    for (const row of rows) stored[Number(row.ord) - 1] = true;
    return stored;
  }

  /** Lock the senders' contacts, apply each stored message in order, store them in one statement. */
  private async updateContacts(
    manager: EntityManager,
    items: readonly { message: InboundMessage; at: Date }[],
  ): Promise<void> {
    const locked = await manager.query<ContactState[]>(
      `SELECT phone, wa_id AS "waId", profile_name AS "profileName",
              to_json(last_inbound_at) #>> '{}' AS "lastInboundAt",
              to_json(opted_out_at) #>> '{}' AS "optedOutAt"
         FROM contacts WHERE phone = ANY($1::text[])
        ORDER BY phone
          FOR UPDATE`,
      [[...new Set(items.map(({ message }) => message.phone))]],
    );
    const contacts = new Map(locked.map((contact) => [contact.phone, contact]));
    for (const { message, at } of items) {
      const contact = contacts.get(message.phone);
      if (contact === undefined) continue;
      contacts.set(message.phone, afterInbound(contact, { ...message, at: at.toISOString() }));
    }
    const rows = [...contacts.values()];
    await manager.query(
      `UPDATE contacts c
          SET wa_id = v.wa_id, profile_name = v.profile_name,
              last_inbound_at = v.last_inbound_at, opted_out_at = v.opted_out_at,
              updated_at = now()
         FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])
              AS v(phone, wa_id, profile_name, last_inbound_at, opted_out_at)
        WHERE c.phone = v.phone`,
      [
        rows.map((row) => row.phone),
        rows.map((row) => row.waId),
        rows.map((row) => row.profileName),
        rows.map((row) => row.lastInboundAt),
        rows.map((row) => row.optedOutAt),
      ],
    );
  }
}
