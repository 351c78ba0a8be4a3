import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppException } from '../../../common/errors/app.exception';
import { ErrorCode } from '../../../common/errors/error-code';
import { normalizeWhatsappNumber } from '../../../common/phone';
import { isWindowOpen, windowExpiresAt } from './contact-window';
import { ContactsRepository } from './contacts.repository';
import type { ContactEntity } from '../entities/contact.entity';

export interface ContactResponse {
  phone: string;
  waId: string | null;
  profileName: string | null;
  lastInboundAt: string | null;
  windowOpen: boolean;
  windowExpiresAt: string | null;
  optedOutAt: string | null;
}

@Injectable()
export class ContactsService {
  constructor(private readonly contacts: ContactsRepository) {}

  async get(phoneInput: string, now = Date.now()): Promise<ContactResponse> {
    return toContactResponse(await this.find(phoneInput), now);
  }

  async setOptedOut(phoneInput: string, optedOut: boolean): Promise<ContactResponse> {
    const contact = await this.find(phoneInput);
    await this.contacts.setOptedOut(contact.phone, optedOut);
    return this.get(contact.phone);
  }

  /**
   * Erases a contact's personal data: the contact row, the bodies, media, variables, metadata
   * and error texts of their messages (Twilio's can quote the number), the raw payloads and
   * error texts of those messages' events, and of orphan callbacks addressed to or from the
   * number. The rows stay, with statuses, error codes and timestamps, under a pseudonymous
   * address, so counts and metrics hold.
   */
  async erase(phoneInput: string): Promise<void> {
    const phone = normalize(phoneInput);
    const pseudonym = `erased:${createHash('sha256').update(phone).digest('hex').slice(0, 16)}`;
    await this.contacts.erase(phone, `whatsapp:${phone}`, pseudonym);
  }

  private async find(phoneInput: string): Promise<ContactEntity> {
    const contact = await this.contacts.findByPhone(normalize(phoneInput));
    if (!contact) throw new AppException(ErrorCode.NotFound, 'No such contact.');
    return contact;
  }
}

function normalize(input: string): string {
  const phone = normalizeWhatsappNumber(input);
  if (!phone.ok) throw new AppException(ErrorCode.NotFound, 'No such contact.');
  return phone.e164;
}

function toContactResponse(contact: ContactEntity, now: number): ContactResponse {
  return {
    phone: contact.phone,
    waId: contact.waId,
    profileName: contact.profileName,
    lastInboundAt: contact.lastInboundAt?.toISOString() ?? null,
    windowOpen: isWindowOpen(contact.lastInboundAt, now),
    windowExpiresAt: windowExpiresAt(contact.lastInboundAt)?.toISOString() ?? null,
    optedOutAt: contact.optedOutAt?.toISOString() ?? null,
  };
}
