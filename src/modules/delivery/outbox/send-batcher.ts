import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Batcher } from '../../../common/batcher';
import { mayBelongToOneItem } from '../../../database/postgres-errors';
import { ContactsRepository } from '../contacts/contacts.repository';
import { OutboxRepository } from './outbox.repository';
import type { ContactSendState, NewOutboundMessage } from '../delivery.types';

/**
 * The send path's two database trips, each shared by every request that needs it at the same
 * moment (common/batcher.ts): the contacts' windows and opt-outs in one query, and the new
 * `pending` rows with their log rows in one statement. Each request still waits for its own
 * row's commit before it queues the job and answers; a batch that fails fails exactly its
 * requests, and a row the database refuses is retried alone so only its request fails.
 */
@Injectable()
export class SendBatcher implements OnModuleDestroy {
  private readonly contacts: Batcher<string, ContactSendState | null>;
  private readonly pending: Batcher<NewOutboundMessage, string>;

  constructor(contacts: ContactsRepository, outbox: OutboxRepository) {
    const logger = new Logger(SendBatcher.name);
    this.contacts = new Batcher({
      run: (phones) => contacts.sendStateOf(phones),
      isolate: () => false,
      logger,
      noun: 'contact look-ups',
    });
    this.pending = new Batcher({
      run: (messages) => outbox.createPendingMany(messages),
      isolate: mayBelongToOneItem,
      logger,
      noun: 'new messages',
    });
  }

  contactState(phone: string): Promise<ContactSendState | null> {
    return this.contacts.submit(phone);
  }

  createPending(message: NewOutboundMessage): Promise<string> {
    return this.pending.submit(message);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.contacts.drain(), this.pending.drain()]);
  }
}
