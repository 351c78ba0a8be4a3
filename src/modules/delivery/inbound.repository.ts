import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { returning } from '../../database/returning';

export interface InboundMessage {
  twilioSid: string;
  from: string;
  to: string;
  body: string | null;
  mediaUrls: string[];
  metadata: Record<string, unknown>;
  /** The sender's E.164 number (contacts key). */
  phone: string;
  waId: string | null;
  profileName: string | null;
  /** STOP-style keyword → true, START-style → false, otherwise undefined. */
  optOut: boolean | undefined;
  payload: Record<string, unknown>;
  idempotencyToken: string | null;
}

/**
 * Inbound messages: stored once per MessageSid (the unique index decides), and in the same
 * transaction the contact's window opened and opt-out keywords applied.
 */
@Injectable()
export class InboundRepository {
  constructor(private readonly dataSource: DataSource) {}

  async record(message: InboundMessage, at: Date = new Date()): Promise<'stored' | 'duplicate'> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await returning<{ id: string }>(
        manager,
        `INSERT INTO whatsapp_messages
           (direction, twilio_sid, "from", "to", body, media_urls, metadata, status, attempts, max_attempts)
         VALUES ('inbound', $1, $2, $3, $4, $5, $6, 'received', 0, 0)
         ON CONFLICT (twilio_sid) DO NOTHING RETURNING id`,
        [
          message.twilioSid,
          message.from,
          message.to,
          message.body,
          JSON.stringify(message.mediaUrls),
          JSON.stringify(message.metadata),
        ],
      );
      const id = rows.at(0)?.id;
      if (id === undefined) return 'duplicate';
      await manager.query(
        `INSERT INTO message_status_logs
           (message_id, twilio_sid, status, source, applied, payload, idempotency_token, received_at)
         VALUES ($1, $2, 'received', 'callback', true, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [id, message.twilioSid, message.payload, message.idempotencyToken, at],
      );
      await manager.query(
        `INSERT INTO contacts (phone, wa_id, profile_name, last_inbound_at, opted_out_at)
         VALUES ($1, $2, $3, $4::timestamptz, CASE WHEN $5::boolean THEN $4::timestamptz ELSE NULL END)
         ON CONFLICT (phone) DO UPDATE SET
           wa_id = COALESCE(EXCLUDED.wa_id, contacts.wa_id),
           profile_name = COALESCE(EXCLUDED.profile_name, contacts.profile_name),
           last_inbound_at = GREATEST(contacts.last_inbound_at, EXCLUDED.last_inbound_at),
           opted_out_at = CASE WHEN $5::boolean IS NULL THEN contacts.opted_out_at
                               WHEN $5::boolean THEN COALESCE(contacts.opted_out_at, $4::timestamptz)
                               ELSE NULL END,
           updated_at = now()`,
        [message.phone, message.waId, message.profileName, at, message.optOut ?? null],
      );
      return 'stored';
    });
  }
}
