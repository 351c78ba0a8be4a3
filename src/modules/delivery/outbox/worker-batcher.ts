import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { Batcher } from '../../../common/batcher';
import { isDatabaseUnreachable, mayBelongToOneItem } from '../../../database/postgres-errors';
import type { AppConfig } from '../../../config/app-config';
import { APP_CONFIG } from '../../../config/config.constants';
import { OutboxRepository } from './outbox.repository';
import type { ClaimedMessage, MoveResult, TwilioAnswer } from '../delivery.types';

/**
 * The worker's two writes per message, each shared by every job that needs it at the same
 * moment (common/batcher.ts): the claims in one transaction and Twilio's answers in another, so
 * 32 concurrent jobs make a few transactions instead of 64. (The API's new sends are grouped by
 * SendBatcher.) Each job still waits for its own
 * row's commit: it calls Twilio only after its claim committed, and finishes only after the
 * answer did. A message claimed (or answered) twice in one batch is decided as one at a time,
 * in arrival order (OutboxRepository), so a duplicate job can never send it twice.
 *
 * Twilio's answers are worth more than claims: each one is a message Twilio already has. A claim
 * that fails only delays its message (the row stays `pending`; the sweeper re-queues it). An
 * answer that fails leaves the row `dispatching` without its SID until a callback or a takeover
 * (which looks at Twilio first) repairs it. So an answer batch that fails for any reason but an
 * unreachable database (a statement timeout because one row was locked, say) is written again
 * one answer at a time — safe, as an answer written twice changes nothing the second time — and
 * answers wait for their batch as long as a holder's claim lasts rather than the 3 s of a request.
 *
 * One batch of each is written at a time (not two, the Batcher's default): a batch is four round
 * trips (BEGIN, lock, write, COMMIT: the one writer's pattern), and the jobs that arrive while one
 * is written join the next, so 32 jobs make fewer, larger transactions. Measured end to end (bench
 * README, "The one writer"): as fast as the old single-statement claims with one in flight, ~10 %
 * slower with two.
 */
const ONE_AT_A_TIME = 1;

@Injectable()
export class WorkerBatcher implements OnModuleDestroy {
  private readonly claims: Batcher<{ id: string; staleMs: number }, ClaimedMessage | null>;
  private readonly answers: Batcher<
    { id: string; attempt: number; answer: TwilioAnswer },
    MoveResult
  >;

  constructor(outbox: OutboxRepository, @Inject(APP_CONFIG) config: AppConfig) {
    const logger = new Logger(WorkerBatcher.name);
    this.claims = new Batcher({
      run: (claims) => outbox.claimForSendMany(claims),
      isolate: mayBelongToOneItem,
      maxInFlight: ONE_AT_A_TIME,
      logger,
      noun: 'claims',
    });
    this.answers = new Batcher({
      run: (answers) => outbox.recordAcceptedMany(answers),
      isolate: (error) => !isDatabaseUnreachable(error),
      maxInFlight: ONE_AT_A_TIME,
      // Two thirds of a holder's claim: an answer lands (or fails) before a takeover may start.
      maxWaitMs: (config.sending.dispatchStaleMs * 2) / 3,
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
