import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Batcher } from '../../../common/batcher';
import { mayBelongToOneItem } from '../../../database/postgres-errors';
import { InboundRepository } from './inbound.repository';
import type { InboundMessage, InboundOutcome } from '../delivery.types';

/**
 * Group commit for inbound messages (common/batcher.ts): every webhook's message waits for the
 * transaction that stores it with the others that arrived at the same moment, and is answered
 * only after that commit. A batch that fails fails exactly its requests; a message the database
 * refuses is retried alone so only its request fails.
 */
@Injectable()
export class InboundBatcher implements OnModuleDestroy {
  private readonly batcher: Batcher<{ message: InboundMessage; at: Date }, InboundOutcome>;

  constructor(inbound: InboundRepository) {
    this.batcher = new Batcher({
      run: (items) => inbound.recordMany(items),
      isolate: mayBelongToOneItem,
      logger: new Logger(InboundBatcher.name),
      noun: 'inbound messages',
    });
  }

  record(message: InboundMessage): Promise<InboundOutcome> {
    return this.batcher.submit({ message, at: new Date() });
  }

  /** How far behind the writes are (Batcher.lagMs): part of the callback path's pacing signal. */
  lagMs(): number {
    return this.batcher.lagMs();
  }

  async onModuleDestroy(): Promise<void> {
    await this.batcher.drain();
  }
}
