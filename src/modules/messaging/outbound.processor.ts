import { InjectQueue, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { reportError } from '../../common/error-tracking/error-tracking';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.constants';
import { OutboundJob, QueueName, type SendJobData } from '../../queue/queue.constants';
import { WorkerConnection } from '../../queue/worker-connection';
import { SendBudget } from './budget/send-budget';
import { DispatchService } from './dispatch.service';

/** How long a job's lock lasts unless renewed, and how often stalled jobs are looked for. */
const STALLED_LOCK_MS = 10_000;
const STALLED_CHECK_MS = 5_000;

/**
 * The outbound queue's one processor (worker roles). @nestjs/bullmq builds its Worker from this
 * decorator and the root config (MessagingWorkerModule: the worker connection, the queue prefix) and
 * takes no options from the config, so the Worker is built idle (`autorun: false`) and
 * onApplicationBootstrap gives it the concurrency before it runs. Each send first draws from the
 * send budget (SendBudget: the sender's TWILIO_MPS across every worker process, and pacing by
 * the callback path). On shutdown it stops taking jobs and waits for running ones.
 */
@Processor(QueueName.Outbound, { autorun: false })
export class OutboundProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, OnModuleDestroy
{
  private readonly logger = new Logger(OutboundProcessor.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly dispatch: DispatchService,
    private readonly budget: SendBudget,
    private readonly connection: WorkerConnection,
    // Registered only so that @nestjs/bullmq starts this processor (MessagingWorkerModule); it
    // shares the worker connection, whose outages WorkerConnection already logs.
    @InjectQueue(QueueName.Outbound) registered: Queue,
  ) {
    super();
    registered.on('error', () => undefined);
  }

  onApplicationBootstrap(): void {
    const worker = this.worker;
    // Read live by BullMQ's fetch loop, so this equals passing it to the constructor.
    worker.concurrency = this.config.sending.workerConcurrency;
    // A worker killed with -9 leaves its active jobs locked, many of them waiting on the send
    // budget: they go back to the queue once their lock runs out and the stalled-job check sees
    // it. BullMQ's defaults (30 s, every 30 s) made that up to a minute after a crash; 10 s locks
    // (renewed every 5 s while a job runs) checked every 5 s make it about 15 s.
    worker.opts.lockDuration = STALLED_LOCK_MS;
    worker.opts.stalledInterval = STALLED_CHECK_MS;
    worker
      .run()
      .catch((error: unknown) =>
        this.logger.error({ reason: (error as Error).message }, 'Outbound worker stopped'),
      );
  }

  async process(job: Job<SendJobData>): Promise<void> {
    switch (job.name as OutboundJob) {
      case OutboundJob.Send: {
        const sender = this.budget.defaultSender();
        await this.budget.take(sender);
        const outcome = await this.dispatch.dispatch(job.data.messageId);
        if (outcome.backOffSenderMs !== undefined) {
          // Every worker pauses this sender: Twilio said it is over its limit.
          await this.budget.backOff(sender, outcome.backOffSenderMs);
        }
        return;
      }
    }
  }

  /**
   * Dispatch settles Twilio's failures itself: a job that fails hit something unexpected (the
   * database refused a write, say). The row stays where it was; the sweeper picks it up.
   */
  @OnWorkerEvent('failed')
  onFailed(job: Job<SendJobData> | undefined, error: Error): void {
    this.logger.warn(
      { messageId: job?.data.messageId, jobId: job?.id, err: error },
      'Send job failed; the sweeper will pick the message up',
    );
    reportError(error, { messageId: job?.data.messageId, jobId: job?.id });
  }

  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.logger.warn({ reason: error.message }, 'Outbound worker error');
  }

  /**
   * With Redis reachable, wait for running jobs (bounded by the process's shutdown timeout);
   * without it nothing can be acknowledged anyway, and a graceful close would wait forever.
   * @nestjs/bullmq closes the worker again at onApplicationShutdown, always gracefully; by then
   * BullMQ answers with this close, already done.
   */
  async onModuleDestroy(): Promise<void> {
    if (this.connection.ready) await this.worker.close();
    else await this.worker.close(true).catch(() => undefined);
  }
}
