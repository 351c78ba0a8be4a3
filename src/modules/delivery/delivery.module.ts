import { Module } from '@nestjs/common';
import { ContactsRepository } from './contacts.repository';
import { DeliveryService } from './delivery.service';
import { MessageEventsRepository } from './message-events.repository';
import { MessagesRepository } from './messages.repository';

/** Status state machine, status log, contacts; messaging and webhooks apply events through it. */
@Module({
  providers: [ContactsRepository, DeliveryService, MessageEventsRepository, MessagesRepository],
  exports: [ContactsRepository, DeliveryService, MessagesRepository],
})
export class DeliveryModule {}
