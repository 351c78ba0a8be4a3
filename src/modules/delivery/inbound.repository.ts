import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

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

export type InboundOutcome = 'stored' | 'duplicate';

/** What the batch's stored messages do to one contact, in the order they arrived. */
interface ContactChange {
  phone: string;
  waId: string | null;
  profileName: string | null;
  lastInboundAt: Date;
  /** keep: no keyword; clear: ends opted in; set: opted out at `optOutAt`; coalesce: keep an earlier opt-out, else `optOutAt`. */
  optOut: 'keep' | 'clear' | 'set' | 'coalesce';
  optOutAt: Date | null;
}

/**
 * Inbound messages: stored once per MessageSid (the unique index decides), and in the same
 * transaction each contact's window opened and opt-out keywords applied. Many messages go in
 * one transaction with multi-row statements; the outcome is that of storing them one at a time
 * in order (a repeated MessageSid is a duplicate after its first; a contact ends as the last of
 * its messages left it).
 */
@Injectable()
export class InboundRepository {
  constructor(private readonly dataSource: DataSource) {}

  recordMany(items: readonly { message: InboundMessage; at: Date }[]): Promise<InboundOutcome[]> {
    return this.dataSource.transaction(async (manager) => {
      const stored = await this.insertMessages(manager, items);
      const changes = contactChanges(items.filter((_item, index) => stored[index]));
      if (changes.length > 0) await this.applyContactChanges(manager, changes);
      return stored.map((isNew) => (isNew ? 'stored' : 'duplicate'));
    });
  }

  /** Messages and their `received` log rows in one statement; which of the items were new. */
  private async insertMessages(
    manager: EntityManager,
    items: readonly { message: InboundMessage; at: Date }[],
  ): Promise<boolean[]> {
    const rows = await manager.query<{ ord: string }[]>(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[],
                              $6::jsonb[], $7::jsonb[], $8::text[], $9::timestamptz[])
                  WITH ORDINALITY AS u(twilio_sid, "from", "to", body, media_urls, metadata,
                                       payload, idempotency_token, received_at, ord)
       ), created AS (
         INSERT INTO whatsapp_messages
           (direction, twilio_sid, "from", "to", body, media_urls, metadata, status, attempts,
            max_attempts)
         SELECT 'inbound', twilio_sid, "from", "to", body, media_urls, metadata, 'received', 0, 0
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
      ],
    );
    const stored = items.map(() => false);
    for (const row of rows) stored[Number(row.ord) - 1] = true;
    return stored;
  }

  /** One upsert for every contact, in phone order (concurrent batches never deadlock). */
  private async applyContactChanges(
    manager: EntityManager,
    changes: readonly ContactChange[],
  ): Promise<void> {
    await manager.query(
      `INSERT INTO contacts (phone, wa_id, profile_name, last_inbound_at, opted_out_at)
       SELECT phone, wa_id, profile_name, last_inbound_at,
              CASE WHEN opt_out IN ('set', 'coalesce') THEN opt_out_at END
         FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],
                     $6::timestamptz[])
              AS v(phone, wa_id, profile_name, last_inbound_at, opt_out, opt_out_at)
        ORDER BY phone
       ON CONFLICT (phone) DO UPDATE SET
         wa_id = COALESCE(EXCLUDED.wa_id, contacts.wa_id),
         profile_name = COALESCE(EXCLUDED.profile_name, contacts.profile_name),
         last_inbound_at = GREATEST(contacts.last_inbound_at, EXCLUDED.last_inbound_at),
         opted_out_at = (SELECT CASE v.opt_out WHEN 'keep' THEN contacts.opted_out_at
                                               WHEN 'clear' THEN NULL
                                               WHEN 'set' THEN v.opt_out_at
                                               ELSE COALESCE(contacts.opted_out_at, v.opt_out_at) END
                           FROM unnest($1::text[], $5::text[], $6::timestamptz[])
                                AS v(phone, opt_out, opt_out_at)
                          WHERE v.phone = EXCLUDED.phone),
         updated_at = now()`,
      [
        changes.map((change) => change.phone),
        changes.map((change) => change.waId),
        changes.map((change) => change.profileName),
        changes.map((change) => change.lastInboundAt),
        changes.map((change) => change.optOut),
        changes.map((change) => change.optOutAt),
      ],
    );
  }
}

/** Per phone, what its stored messages do when applied one at a time in arrival order. */
function contactChanges(items: readonly { message: InboundMessage; at: Date }[]): ContactChange[] {
  const byPhone = new Map<string, ContactChange>();
  for (const { message, at } of items) {
    const change = byPhone.get(message.phone) ?? {
      phone: message.phone,
      waId: null,
      profileName: null,
      lastInboundAt: at,
      optOut: 'keep' as const,
      optOutAt: null,
    };
    change.waId = message.waId ?? change.waId;
    change.profileName = message.profileName ?? change.profileName;
    if (at > change.lastInboundAt) change.lastInboundAt = at;
    if (message.optOut === false) {
      change.optOut = 'clear';
      change.optOutAt = null;
    } else if (message.optOut === true) {
      // STOP keeps the first opt-out: the stored one when nothing in this batch cleared it.
      if (change.optOut === 'keep') [change.optOut, change.optOutAt] = ['coalesce', at];
      else if (change.optOut === 'clear') [change.optOut, change.optOutAt] = ['set', at];
    }
    byPhone.set(message.phone, change);
  }
  return [...byPhone.values()];
}
