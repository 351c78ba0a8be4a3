import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Batcher, mayBelongToOneItem } from '../../common/batcher';
import { OutboxRepository, type MoveResult } from './outbox.repository';
import type { ClaimedMessage, TwilioAnswer } from './outbox.types';

/**
 * The worker's two writes per message, each shared by every job that needs it at the same
 * moment (common/batcher.ts): the claims in one statement and Twilio's answers in another, so
 * 32 concurrent jobs make a few statements instead of 64. Each job still waits for its own
 * row's commit: it calls Twilio only after its claim committed, and finishes only after the
 * answer did. A message claimed (or answered) twice in one batch is decided as one at a time,
 * in arrival order (OutboxRepository), so a duplicate job can never send it twice.
 */
@Injectable()
export class OutboxBatcher implements OnModuleDestroy {
  private readonly claims: Batcher<{ id: string; staleMs: number }, ClaimedMessage | null>;
  private readonly answers: Batcher<
    { id: string; attempt: number; answer: TwilioAnswer },
    MoveResult
  >;

  constructor(outbox: OutboxRepository) {
    const logger = new Logger(OutboxBatcher.name);
    this.claims = new Batcher({
      write: (claims) => outbox.claimForSendMany(claims),
      isolate: mayBelongToOneItem,
      logger,
      noun: 'claims',
    });
    this.answers = new Batcher({
      write: (answers) => outbox.recordAcceptedMany(answers),
      isolate: mayBelongToOneItem,
      logger,
      noun: "Twilio's answers",
    });
  }

  claim(id: string, staleMs: number): Promise<ClaimedMessage | null> {
    return this.claims.submit({ id, staleMs });
  }

  recordAccepted(id: string, attempt: number, answer: TwilioAnswer): Promise<MoveResult> {
    return this.answers.submit({ id, attempt, answer });
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.claims.drain(), this.answers.drain()]);
  }
}
