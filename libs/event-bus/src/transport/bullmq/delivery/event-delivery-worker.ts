import type { LoggerService } from '@nestjs/common';
import type { Job, Processor, Worker, WorkerOptions } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { EventBusWorkerOptions } from '../../../event-bus.options.js';
import type { RetryPolicy } from '../../../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../../../subscriptions/subscription-manager.js';
import { EVENT_JOB, HANDLER_JOB, type EventJobData, type HandlerJobData } from '../event-jobs.js';
import { EventJobProcessor } from './event-job-processor.js';
import { HandlerDeliveryRepository } from './handler-delivery.repository.js';
import { HandlerJobProcessor } from './handler-job-processor.js';
import { handlerBackoffStrategy, KEEP_COMPLETED_JOBS, KEEP_FAILED_JOBS, type HandlerJobQueue } from './handler-jobs.js';
import { StatusWriter } from './status-writer.js';

/**
 * A BullMQ `Worker` class of either backend (`Worker`, or `withBackend(createPostgresBackend).Worker`).
 * Typed loosely on purpose: the backend-bound classes differ only in their connection type.
 */
export type WorkerConstructor = new (
  name: string,
  processor: Processor,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the connection type depends on the backend
  opts: WorkerOptions<any>,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- likewise the backend and connection type parameters
) => Worker<any, any, string, any, any, any>;

export interface EventDeliveryWorkerDeps {
  queueName: string;
  prefix?: string;
  /** Backend connection options (Redis options, or the PostgreSQL backend's), as the Worker class takes them. */
  connection: unknown;
  WorkerClass: WorkerConstructor;
  /** The event queue, to add handler jobs to. */
  queue: HandlerJobQueue;
  subscriptions: SubscriptionManager;
  defaultRetry: RetryPolicy;
  concurrency: number;
  workerOptions?: EventBusWorkerOptions;
  dataSource: DataSource;
  logger: LoggerService;
}

/**
 * Consumes the event queue: BullMQ competing consumers (any number of processes), stalled-job recovery
 * by BullMQ, and a processor that dispatches on the job name to the event and handler processors.
 */
export class EventDeliveryWorker {
  private readonly eventJobs: EventJobProcessor;
  private readonly handlerJobs: HandlerJobProcessor;
  private worker: InstanceType<WorkerConstructor> | undefined;
  private starting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: EventDeliveryWorkerDeps) {
    const records = new HandlerDeliveryRepository(deps.dataSource);
    const common = { subscriptions: deps.subscriptions, defaultRetry: deps.defaultRetry, records, logger: deps.logger };
    this.eventJobs = new EventJobProcessor({
      ...common,
      queue: deps.queue,
      statuses: new StatusWriter(deps.dataSource),
    });
    this.handlerJobs = new HandlerJobProcessor(common);
  }

  /** Starts consuming; resolves once the worker is connected. Safe to call twice. */
  start(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.starting ??= this.createWorker();
    return this.starting;
  }

  /** Stops taking jobs and waits for the running ones to finish (BullMQ `worker.close()`). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // A start still connecting must finish first, or its worker would be left running.
      await this.starting?.catch(() => undefined);
      await this.worker?.close();
    })();
    return this.closing;
  }

  private async createWorker(): Promise<void> {
    const { WorkerClass, workerOptions = {}, subscriptions, defaultRetry, logger } = this.deps;
    const { settings: userSettings, ...userOptions } = workerOptions as EventBusWorkerOptions & {
      settings?: WorkerOptions['settings'];
    };
    const worker = new WorkerClass(this.deps.queueName, (job: Job) => this.dispatch(job), {
      connection: this.deps.connection,
      ...(this.deps.prefix === undefined ? {} : { prefix: this.deps.prefix }),
      concurrency: this.deps.concurrency,
      // Defaults for event jobs added without retention options; handler jobs carry their own.
      removeOnComplete: KEEP_COMPLETED_JOBS,
      removeOnFail: KEEP_FAILED_JOBS,
      ...userOptions,
      settings: {
        ...userSettings,
        backoffStrategy: handlerBackoffStrategy(
          subscriptions,
          defaultRetry,
          userSettings?.backoffStrategy,
          (failure) => {
            logger.error(`A backoff function threw; the default backoff was used instead: ${String(failure)}`);
          },
        ),
      },
    });
    this.worker = worker;
    // An EventEmitter 'error' with no listener would crash the process; connection errors are retried by BullMQ.
    worker.on('error', (error: Error) => {
      logger.error(`Event worker error: ${error.message}`, error.stack);
    });
    worker.on('failed', (job: Job | undefined, error: Error) => {
      // Handler failures are logged by the processors; this reports failures of the machinery itself.
      if (job?.name === EVENT_JOB) logger.error(`Event job ${job.id} failed: ${error.message}`, error.stack);
    });
    await worker.waitUntilReady();
  }

  private async dispatch(job: Job): Promise<void> {
    switch (job.name) {
      case EVENT_JOB:
        return this.eventJobs.process(job.data as EventJobData, job.id ?? (job.data as EventJobData).event.id);
      case HANDLER_JOB:
        return this.handlerJobs.process({
          id: job.id ?? '',
          data: job.data as HandlerJobData,
          attemptsMade: job.attemptsMade,
          attempts: job.opts.attempts ?? 1,
        });
      default:
        throw new Error(`Unknown job "${job.name}" on the event queue ${this.deps.queueName}`);
    }
  }
}
