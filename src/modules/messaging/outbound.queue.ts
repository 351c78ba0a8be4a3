import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Batcher } from '../../common/batcher';
import { withTimeout } from '../../common/with-timeout';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { createBullConnection } from '../../queue/bullmq-connection';
import { OutboundJob, QueueName, sendJobId, type SendJobData } from '../../queue/queue.constants';

interface Enqueue {
  messageId: string;
  attempt: number;
  delayMs: number;
}

const LIVE_STATES = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);
export const QUEUE_JOBS = 'whatsapp_queue_jobs';

/**
 * The producer side of the outbound queue, in every role. Never blocks a request longer than
 * ENQUEUE_TIMEOUT_MS: its connection fails fast while Redis is away. It is not a
 * `BullModule.registerQueue` queue because @nestjs/bullmq hands a registered queue's connection
 * to its processor, which needs one that waits for Redis instead (MessagingWorkerModule).
 */
@Injectable()
export class OutboundQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(OutboundQueue.name);
  private readonly connection: Redis;
  readonly queue: Queue<SendJobData>;
  private readonly adds: Batcher<Enqueue, unknown>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.connection = createBullConnection(config.redis.url, 'producer', this.logger);
    this.queue = new Queue<SendJobData>(QueueName.Outbound, {
      connection: this.connection,
      prefix: config.redis.queuePrefix,
      // Finished jobs are removed, so an id is only ever "held" while its job can still run. Keep
      // it so: the sweeper re-adds `<id>-<attempt>` for a row whose job ran without claiming it
      // (an early duplicate, a job turned away by its backoff), and BullMQ silently drops an add
      // whose id a retained completed job still holds — the row would wait for ever.
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
    });
    this.queue.on('error', () => undefined); // the connection logs state changes once
    this.adds = new Batcher({
      run: (jobs) => this.addMany(jobs),
      isolate: () => false,
      // A caller is told false after ENQUEUE_TIMEOUT_MS; its job is not added later (the sweeper
      // queues the row).
      maxWaitMs: config.sending.enqueueTimeoutMs,
      logger: this.logger,
      noun: 'jobs',
    });
  }

  private countsCache: { value: Record<string, number>; at: number } | undefined;

  /** Jobs by state for the whatsapp_queue_jobs gauge (cached 5 s; empty while Redis is away). */
  async jobCounts(): Promise<Record<string, number>> {
    if (this.countsCache && Date.now() - this.countsCache.at < 5_000) return this.countsCache.value;
    if (this.connection.status !== 'ready') return {};
    const value = await this.queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'prioritized',
      'failed',
    );
    this.countsCache = { value, at: Date.now() };
    return value;
  }

  /**
   * Adds the job for `attempt` (`<id>-<attempt>`). False when Redis did not take it in time: the
   * row is committed, and the sweeper queues it once Redis answers again. Jobs asked for at the
   * same moment go to Redis together (one `addBulk`, one round trip).
   */
  enqueue(messageId: string, attempt: number, delayMs = 0): Promise<boolean> {
    const added = this.adds.submit({ messageId, attempt, delayMs });
    return withTimeout(added, this.config.sending.enqueueTimeoutMs).then(
      () => true,
      (error: unknown) => {
        this.logger.warn(
          { messageId, attempt, reason: (error as Error).message },
          'Enqueue failed; the sweeper will retry',
        );
        return false;
      },
    );
  }

  private addMany(jobs: readonly Enqueue[]): Promise<unknown[]> {
    return this.queue.addBulk(
      jobs.map(({ messageId, attempt, delayMs }) => ({
        name: OutboundJob.Send,
        data: { messageId },
        opts: { jobId: sendJobId(messageId, attempt), delay: Math.max(0, delayMs) },
      })),
    );
  }

  /** Whether the job for this attempt is still waiting, delayed or running. */
  async hasLiveJob(messageId: string, attempt: number): Promise<boolean> {
    const job = await this.queue.getJob(sendJobId(messageId, attempt));
    if (!job) return false;
    return LIVE_STATES.has(await job.getState());
  }

  /**
   * After the HTTP server has closed (Nest closes it between the destroy and the shutdown hooks),
   * so a send still in flight during a rollout queues its job instead of leaving it to the
   * sweeper.
   */
  async onApplicationShutdown(): Promise<void> {
    await this.adds.drain();
    if (this.connection.status === 'ready') await this.queue.close().catch(() => undefined);
    this.connection.disconnect();
  }
}
