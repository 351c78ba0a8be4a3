import { Module } from '@nestjs/common';
import { ContactsRepository } from './contacts.repository';
import { DeliveryService } from './delivery.service';
import { InboundRepository } from './inbound.repository';
import { MessageEventsRepository } from './message-events.repository';
import { MessagesRepository } from './messages.repository';

/** Status state machine, status log, contacts; messaging and webhooks apply events through it. */
@Module({
  providers: [
    ContactsRepository,
    DeliveryService,
    InboundRepository,
    MessageEventsRepository,
    MessagesRepository,
  ],
  exports: [ContactsRepository, DeliveryService, InboundRepository, MessagesRepository],
})
export class DeliveryModule {}
