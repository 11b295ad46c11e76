import type { LoggerService } from '@nestjs/common';
import type { Job, Processor, Worker, WorkerOptions } from 'bullmq';
import type { DeliveryRecords, EventStatuses } from '../../../core/ports/delivery-records.js';
import { runOnceThrough, type HandlerInbox } from '../../../core/ports/handler-inbox.js';
import { EVENT_BUS_DEFAULTS, type EventBusWorkerOptions } from '../../../core/event-bus.options.js';
import type { RetryPolicy } from '../../../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../../../subscriptions/subscription-manager.js';
import { withDeadline } from '../../../shared/with-deadline.js';
import {
  closeWithin,
  dropConnections,
  forceWithin,
  interruptFetch,
  queueAnswers,
  type QueueConnectionOwner,
} from '../queue/bounded-close.js';
import {
  EVENT_BATCH_JOB,
  EVENT_JOB,
  HANDLER_JOB,
  type EventBatchJobData,
  type EventJobData,
  type HandlerJobData,
} from '../jobs/event-jobs.js';
import { EventJobProcessor } from './event-job-processor.js';
import { HandlerJobProcessor } from './handler-job-processor.js';
import { createHandlerSlots, type HandlerSlots } from './handler-slots.js';
import type { WorkerActivity } from './worker-health.js';
import {
  handlerBackoffStrategy,
  KEEP_COMPLETED_JOBS,
  KEEP_FAILED_JOBS,
  type HandlerJobQueue,
} from '../jobs/handler-jobs.js';
import { StatusWriter } from './status-writer.js';
import type { EventBusInstruments } from '../../../observability/event-bus-instruments.js';

/**
 * Times a job may stall (its worker died, or closed past `shutdownTimeoutMs` with the job running)
 * and still be given back by BullMQ, rather than failed. BullMQ's default is 1; at-least-once wants
 * more: a rolling deploy can interrupt the same long handler on several restarts in a row, and a job
 * failed for stalling waits for the lost-job recovery instead of going straight back to the queue.
 */
export const DEFAULT_MAX_STALLED_COUNT = 5;

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
  /** Jobs whose handlers run at once (see handler-slots.ts). */
  concurrency: number;
  /** Jobs taken from the queue beyond `concurrency`, waiting for a handler slot. */
  prefetch: number;
  workerOptions?: EventBusWorkerOptions;
  /** The store's delivery records and event statuses. */
  deliveries: DeliveryRecords;
  statuses: EventStatuses;
  /** Where transactional handlers record that they handled an event. */
  inbox: HandlerInbox;
  logger: LoggerService;
  /**
   * Deadline of the queue commands the worker issues on its own (adding handler jobs) and of each
   * step of closing its connections, in ms. @default 2000
   */
  queueTimeoutMs?: number;
  /** How long `close` waits for the running jobs before it closes without them, in ms. @default 10000 */
  shutdownTimeoutMs?: number;
  /** Timeout of one attempt of a handler that declares none, in ms. @default none */
  handlerTimeoutMs?: number;
  /** The bus's metrics (handler durations and outcomes). @default none */
  instruments?: EventBusInstruments;
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
  /** Jobs being processed, so `close` can wait for their handlers before it decides how to close. */
  private readonly running = new Set<Promise<void>>();
  private readonly queueTimeoutMs: number;
  private readonly shutdownTimeoutMs: number;
  /** Aborted when `close` stops waiting for running handlers: their `context.signal` is aborted with it. */
  private readonly stopWaiting = new AbortController();
  private readonly slots: HandlerSlots;
  /** When a job last started or finished here (or the worker started): the health check's sign of life. */
  private lastActivityAt = Date.now();
  /** Set while the worker's own connection is lost (BullMQ reconnects). */
  private connectionError: string | undefined;

  constructor(private readonly deps: EventDeliveryWorkerDeps) {
    this.queueTimeoutMs = deps.queueTimeoutMs ?? EVENT_BUS_DEFAULTS.enqueueTimeoutMs;
    this.shutdownTimeoutMs = deps.shutdownTimeoutMs ?? EVENT_BUS_DEFAULTS.shutdownTimeoutMs;
    const records = deps.deliveries;
    this.slots = createHandlerSlots(deps.concurrency);
    const common = {
      subscriptions: deps.subscriptions,
      defaultRetry: deps.defaultRetry,
      records,
      slots: this.slots,
      logger: deps.logger,
      limits: { defaultTimeoutMs: deps.handlerTimeoutMs, stop: this.stopWaiting.signal, instruments: deps.instruments },
      transactions: runOnceThrough(deps.inbox),
    };
    this.eventJobs = new EventJobProcessor({
      ...common,
      // Bounded, so a queue that stops answering cannot hold a job (and with it `close`) forever: the
      // job fails, and BullMQ or the lost-job recovery gives it back.
      queue: {
        addBulk: (jobs) => withDeadline(deps.queue.addBulk(jobs), this.queueTimeoutMs, 'The event queue'),
      },
      statuses: new StatusWriter(deps.statuses),
    });
    this.handlerJobs = new HandlerJobProcessor(common);
  }

  /**
   * Starts consuming; resolves once the worker is connected, or after `readyTimeoutMs` (BullMQ keeps
   * connecting, and it consumes once connected). Safe to call twice.
   */
  start(readyTimeoutMs: number = this.queueTimeoutMs): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.starting ??= this.createWorker(readyTimeoutMs);
    return this.starting;
  }

  /**
   * Stops taking jobs, waits for the running jobs to finish (up to `shutdownTimeoutMs`), then closes
   * the worker's connections — within deadlines, since the queue may not answer any more. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // A start still connecting must finish first, or its worker would be left running.
      await this.starting?.catch(() => undefined);
      if (this.worker) await this.drainAndClose(this.worker);
    })();
    return this.closing;
  }

  /**
   * BullMQ's `worker.close()` alone would wait for the running jobs too, but once started it cannot be
   * bounded: it waits for every job (a handler that never returns, a status write to a PostgreSQL that
   * hangs), for the queue to record each outcome, and for the blocking connection's 'end', forever
   * when Redis is down. So the worker is paused (no new jobs), its jobs are awaited here for up to
   * `shutdownTimeoutMs`, and only then is it closed: gracefully if every job finished and the queue
   * answers, otherwise forcibly.
   */
  private async drainAndClose(worker: InstanceType<WorkerConstructor>): Promise<void> {
    const { logger, queueName } = this.deps;
    const what = `The event worker of queue "${queueName}"`;
    await worker.pause(true);
    // Pausing does not interrupt a fetch waiting for the next job, which could still take one.
    interruptFetch(worker);
    const unfinished = await this.drain();
    if (unfinished > 0) {
      this.stopWaiting.abort(
        new Error(`shutdown stopped waiting for the handler after shutdownTimeoutMs (${this.shutdownTimeoutMs} ms)`),
      );
      logger.warn(
        `${what} closed with ${unfinished} job(s) still running after shutdownTimeoutMs (${this.shutdownTimeoutMs} ` +
          'ms): their handlers did not finish, or their status writes did not answer. The jobs stay active in the ' +
          "queue until their lock expires; BullMQ's stalled-job recovery then gives them to a worker again, and " +
          'the handlers that had not finished run again.',
      );
    } else if (await queueAnswers(worker, this.queueTimeoutMs)) {
      await closeWithin(
        {
          what,
          close: () => worker.close(),
          force: () => dropConnections(worker),
          abandoned: 'recording the outcome of its last jobs (BullMQ gives them back as stalled)',
        },
        this.queueTimeoutMs,
        logger,
      );
      return;
    } else {
      logger.warn(
        `${what} closed without its queue, which does not answer: the outcome of its last jobs may not be ` +
          'recorded there (BullMQ gives such jobs back as stalled; their events are finished and stay so).',
      );
    }
    // Connections first (BullMQ's forced close does not wait for their sockets), then the rest of the
    // worker: its timers and lock renewal (a job left running loses its lock, so it can stall).
    await forceWithin(dropConnections(worker), this.queueTimeoutMs);
    await forceWithin(worker.close(true), this.queueTimeoutMs);
  }

  /** Waits for the running jobs, at most `shutdownTimeoutMs`; resolves to how many are still running. */
  private async drain(): Promise<number> {
    const deadline = Date.now() + this.shutdownTimeoutMs;
    while (this.running.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const settled = await withDeadline(Promise.allSettled([...this.running]), left, 'The running jobs').then(
        () => true,
        () => false,
      );
      if (!settled) break;
    }
    return this.running.size;
  }

  private async createWorker(readyTimeoutMs: number): Promise<void> {
    const { WorkerClass, workerOptions = {}, subscriptions, defaultRetry, logger } = this.deps;
    const { settings: userSettings, ...userOptions } = workerOptions as EventBusWorkerOptions & {
      settings?: WorkerOptions['settings'];
    };
    const worker = new WorkerClass(this.deps.queueName, (job: Job) => this.track(this.dispatch(job)), {
      connection: this.deps.connection,
      ...(this.deps.prefix === undefined ? {} : { prefix: this.deps.prefix }),
      // `concurrency` bounds the handlers (see handler-slots.ts); BullMQ takes more jobs than that, so
      // the round trips around a job's handlers do not leave a handler slot idle.
      concurrency: this.deps.concurrency + this.deps.prefetch,
      // Defaults for event jobs added without retention options; handler jobs carry their own.
      removeOnComplete: KEEP_COMPLETED_JOBS,
      removeOnFail: KEEP_FAILED_JOBS,
      maxStalledCount: DEFAULT_MAX_STALLED_COUNT,
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
    this.lastActivityAt = Date.now();
    // An EventEmitter 'error' with no listener would crash the process. Connection errors are retried
    // by BullMQ, each reconnect attempt reporting one: said once per outage, without a stack.
    worker.on('error', (error: Error) => {
      if (!isConnectionError(error)) {
        logger.error(`Event worker error: ${error.message}`, error.stack);
        return;
      }
      if (this.connectionError !== undefined || this.closing) return;
      this.connectionError = error.message;
      logger.warn(`Event worker lost its queue connection (${error.message}); BullMQ reconnects.`);
    });
    (worker as QueueConnectionOwner).getBackend().on('ready', () => {
      if (this.connectionError === undefined) return;
      this.connectionError = undefined;
      logger.log('Event worker reconnected to its queue.');
    });
    worker.on('failed', (job: Job | undefined, error: Error) => {
      // Handler failures are logged by the processors; this reports failures of the machinery itself.
      if (job?.name === EVENT_JOB || job?.name === EVENT_BATCH_JOB)
        logger.error(`Event job ${job.id} failed: ${error.message}`, error.stack);
    });
    try {
      await withDeadline(worker.waitUntilReady(), readyTimeoutMs, `The event worker of queue "${this.deps.queueName}"`);
    } catch (error) {
      logger.warn(`${(error as Error).message}; it consumes once BullMQ has connected it.`);
    }
  }

  /** What the health check asks of a consumer (worker-health.ts). */
  activity(): WorkerActivity {
    return {
      running: this.worker !== undefined && this.closing === undefined && this.worker.isRunning(),
      connectionError: this.connectionError,
      jobsRunning: this.running.size,
      handlerSlots: { busy: this.slots.activeCount, waiting: this.slots.pendingCount, size: this.deps.concurrency },
      lastActivityAt: this.lastActivityAt,
    };
  }

  private track(processing: Promise<void>): Promise<void> {
    this.lastActivityAt = Date.now();
    this.running.add(processing);
    const forget = (): void => {
      this.lastActivityAt = Date.now();
      this.running.delete(processing);
    };
    processing.then(forget, forget);
    return processing;
  }

  private async dispatch(job: Job): Promise<void> {
    // BullMQ counts every start (a stalled job given back to another worker starts again).
    const firstRun = job.attemptsMade === 0 && (job.attemptsStarted ?? 0) <= 1 && (job.stalledCounter ?? 0) === 0;
    switch (job.name) {
      case EVENT_JOB:
        return this.eventJobs.process(job.data as EventJobData, job.id ?? (job.data as EventJobData).event.id, {
          firstRun,
        });
      case EVENT_BATCH_JOB:
        return this.eventJobs.processBatch(job.data as EventBatchJobData, job.id ?? '', { firstRun });
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

/** Network failures BullMQ recovers from by reconnecting (ioredis and node errors). */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
]);

function isConnectionError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && CONNECTION_ERROR_CODES.has(code)) return true;
  return /Connection is closed|Stream isn't writeable|connect ETIMEDOUT/.test(error.message);
}
