// What inbound messages do to their contact, decided in TypeScript on the row as it was locked
// (InboundRepository). Pure: no Nest, no I/O.
import { millisOf, type Timestamp } from '../status/message-moves';

/** The columns of a contact that inbound messages change. */
export interface ContactState {
  phone: string;
  waId: string | null;
  profileName: string | null;
  lastInboundAt: Timestamp | null;
  optedOutAt: Timestamp | null;
}

/** What one stored inbound message says about its sender. */
export interface InboundSignal {
  waId: string | null;
  profileName: string | null;
  /** STOP-style keyword → true, START-style → false, otherwise undefined. */
  optOut: boolean | undefined;
  at: Timestamp;
}

/**
 * The contact after one inbound message: WhatsApp's id and profile name when the message carries
 * them, the window opened from the latest message, a STOP keeps the first opt-out, a START
 * clears it.
 */
export function afterInbound(contact: ContactState, message: InboundSignal): ContactState {
  const later =
    contact.lastInboundAt === null || millisOf(message.at) > millisOf(contact.lastInboundAt);
  let { optedOutAt } = contact;
  if (message.optOut === true) optedOutAt ??= message.at;
  if (message.optOut === false) optedOutAt = null;
  return {
    phone: contact.phone,
    waId: message.waId ?? contact.waId,
    profileName: message.profileName ?? contact.profileName,
    lastInboundAt: later ? message.at : contact.lastInboundAt,
    optedOutAt,
  };
}
