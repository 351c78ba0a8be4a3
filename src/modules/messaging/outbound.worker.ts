import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { createBullConnection } from '../../queue/bullmq-connection';
import { OutboundJob, QueueName, type SendJobData } from '../../queue/queue.constants';
import { DispatchService } from './dispatch.service';

/**
 * The outbound queue's one processor (worker role). Its limiter caps sends at TWILIO_MPS per
 * one-second window across every worker process (BullMQ's limiter is global to the queue).
 * On shutdown it stops taking jobs and waits for running ones.
 */
@Injectable()
export class OutboundWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(OutboundWorker.name);
  private worker: Worker<SendJobData> | undefined;
  private connection: Redis | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dispatch: DispatchService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.role === 'api') return;
    const mps = this.config.limits.twilioMps;
    this.connection = createBullConnection(this.config.redis.url, 'worker', this.logger);
    this.worker = new Worker<SendJobData>(
      QueueName.Outbound,
      (job) => this.process(job.name, job.data),
      {
        connection: this.connection,
        prefix: this.config.redis.queuePrefix,
        concurrency: this.config.sending.workerConcurrency,
        ...(mps > 0 ? { limiter: { max: mps, duration: 1000 } } : {}),
      },
    );
    this.worker.on('error', (error) =>
      this.logger.warn({ reason: error.message }, 'Outbound worker error'),
    );
  }

  private async process(name: string, data: SendJobData): Promise<void> {
    switch (name as OutboundJob) {
      case OutboundJob.Send: {
        const outcome = await this.dispatch.dispatch(data.messageId);
        if (outcome.backOffSenderMs !== undefined && this.worker) {
          // Every worker of the queue pauses: Twilio said this sender is over its limit.
          await this.worker.rateLimit(outcome.backOffSenderMs);
        }
        return;
      }
    }
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.worker) return;
    // With Redis reachable, wait for running jobs (bounded by the process's shutdown timeout);
    // without it nothing can be acknowledged anyway, and a graceful close would wait forever.
    if (this.connection?.status === 'ready') await this.worker.close();
    else await this.worker.close(true).catch(() => undefined);
    this.connection?.disconnect();
  }
}
