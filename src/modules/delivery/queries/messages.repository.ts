import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MessageStatusLogEntity } from '../entities/message-status-log.entity';
import { WhatsappMessageEntity } from '../entities/whatsapp-message.entity';
import { notFinalSql } from '../status/status-machine';

@Injectable()
export class MessagesRepository {
  constructor(private readonly dataSource: DataSource) {}

  findById(id: string): Promise<WhatsappMessageEntity | null> {
    return this.dataSource.getRepository(WhatsappMessageEntity).findOneBy({ id });
  }

  findBySid(twilioSid: string): Promise<WhatsappMessageEntity | null> {
    return this.dataSource.getRepository(WhatsappMessageEntity).findOneBy({ twilioSid });
  }

  /** The message's events in arrival order. */
  history(messageId: string): Promise<MessageStatusLogEntity[]> {
    return this.dataSource
      .getRepository(MessageStatusLogEntity)
      .find({ where: { messageId }, order: { receivedAt: 'ASC', id: 'ASC' } });
  }

  /** Outbound messages not final and created over `afterSeconds` ago (the stuck gauge). */
  async countStuck(afterSeconds: number): Promise<number> {
    const [{ n }] = await this.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM whatsapp_messages
        WHERE direction = 'outbound'
          AND ${notFinalSql()}
          AND created_at < now() - $1 * interval '1 second'`,
      [afterSeconds],
    );
    return n;
  }
}
