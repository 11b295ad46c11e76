/**
 * What a started BullMQ transport runs: the queue, the relay and lost-job recovery, the worker, and
 * the re-drive of failed deliveries. Built in `start` (which undoes what it built if a later step
 * fails) and torn down in two steps the core bus calls around its publish flush: `drain` (the worker
 * lets its running handlers finish) and `close` (the relay and recovery stop, then the queue closes
 * — only if the transport created it). Every step is bounded: a queue that does not answer delays
 * shutdown by deadlines, never forever.
 */
import type { LoggerService } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { EventBusReadiness, FailedDeliveryFilter } from '../../core/event-bus.js';
import type { DeliveryLedger } from '../../core/ports/delivery-ledger.js';
import type { DispatchOptions } from '../../core/ports/event-transport.js';
import type { TransportHealth, TransportHealthLimits } from '../../core/ports/transport-health.js';
import type { StoredEvent } from '../../events/domain-event.js';
import { withDeadline } from '../../shared/with-deadline.js';
import type { SubscriptionManager } from '../../subscriptions/subscription-manager.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import type { EventBusOptions } from './bullmq-event-bus.options.js';
import type { BusSettings } from './bus-settings.js';
import { EventDeliveryWorker } from './delivery/event-delivery-worker.js';
import { probeWorker } from './delivery/worker-health.js';
import { FailedDeliveryRedrive } from './failed-delivery-redrive.js';
import { closeQueueWithin, queueAnswers } from './queue/bounded-close.js';
import { EventEnqueuer } from './queue/event-enqueuer.js';
import { warnUnlessNoEviction } from './queue/queue-backend.js';
import type { QueueBackend } from './queue/queue-backend.js';
import { probeQueueServer } from './queue/queue-health.js';
import { QueueStartRetry } from './queue/queue-start-retry.js';
import { LostJobRecovery } from './recovery/lost-job-recovery.js';
import type { EventBusInstruments } from '../../observability/event-bus-instruments.js';

export interface BusRuntimeDeps {
  options: Pick<EventBusOptions, 'queue' | 'workerOptions'>;
  backend: QueueBackend;
  settings: BusSettings;
  ledger: DeliveryLedger;
  subscriptions: SubscriptionManager;
  logger: LoggerService;
  instruments?: EventBusInstruments;
}

/** The states `event_bus_queue_jobs` reports. */
const QUEUE_JOB_STATES = [
  'waiting',
  'prioritized',
  'active',
  'delayed',
  'waiting-children',
  'failed',
  'completed',
] as const;

/** How long start-up waits for the PostgreSQL queue backend (it creates its schema on first use). */
const POSTGRES_QUEUE_READY_TIMEOUT_MS = 30_000;

export class BusRuntime {
  private readonly redrive: FailedDeliveryRedrive;
  private relay?: OutboxRelay;
  private lostJobs?: LostJobRecovery;
  private worker?: EventDeliveryWorker;
  /** Set while the queue did not answer at start-up and the worker waits for it. */
  private startRetry?: QueueStartRetry;
  private queueFailing = false;
  private lastQueueError?: string;
  private closed = false;
  private readonly onQueueError = (error: Error): void => {
    this.lastQueueError = error.message;
    // After close, a connection of the closed queue may still report its end (e.g. the database
    // terminating it): swallowed here, since a queue emitting 'error' with no listener prints it.
    if (this.queueFailing || this.closed) return;
    this.queueFailing = true;
    // Reconnecting is ioredis' job; once per outage is enough (the start-up retry says more).
    this.deps.logger.error(`Event queue "${this.queue.name}" connection error: ${error.message}`);
  };
  private readonly onQueueReady = (): void => {
    this.queueFailing = false;
  };

  private constructor(
    private readonly deps: BusRuntimeDeps,
    private readonly queue: Queue,
    private readonly ownsQueue: boolean,
    private readonly enqueuer: EventEnqueuer,
  ) {
    const { ledger, subscriptions, settings } = deps;
    queue.on('error', this.onQueueError);
    queue.getBackend().on('ready', this.onQueueReady);
    this.redrive = new FailedDeliveryRedrive({
      failed: ledger.failed,
      queue,
      subscriptions,
      defaultRetry: settings.defaultRetry,
    });
  }

  /** The queue's name, as log lines give it. */
  get queueName(): string {
    return this.queue.name;
  }

  /** One `addBulk` of event jobs (see `EventEnqueuer.enqueue`); resolves to their job ids. */
  dispatch(events: readonly StoredEvent[], options: DispatchOptions): Promise<string[]> {
    return this.enqueuer.enqueue(events, options);
  }

  redriveFailed(filter: FailedDeliveryFilter): Promise<number> {
    return this.redrive.retry(filter);
  }

  /** The queue's jobs by state, for the `event_bus_queue_jobs` gauge (the caller bounds the wait). */
  jobCounts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts(...QUEUE_JOB_STATES);
  }

  /** Whether this process consumes the queue (or will, once the queue answers). */
  get consuming(): boolean {
    return this.worker !== undefined;
  }

  /** Ready: started as configured and the queue's connection is not failing. */
  readiness(): EventBusReadiness {
    if (this.startRetry?.waiting) {
      return { ready: false, reason: `waiting for the event queue "${this.queue.name}" to answer (start-up)` };
    }
    if (this.queueFailing) {
      return { ready: false, reason: `the event queue "${this.queue.name}" does not answer (${this.lastQueueError})` };
    }
    return { ready: true };
  }

  /**
   * The queue's server and this process's worker, probed at once, each within `limits.timeoutMs`.
   * A worker still waiting for its queue at start-up is not consuming yet: unhealthy, saying so.
   */
  async checkHealth(limits: TransportHealthLimits): Promise<TransportHealth> {
    const queue = probeQueueServer(this.queue, this.deps.backend.kind, limits.timeoutMs);
    if (!this.worker) return { queue: await queue };
    const worker = this.startRetry?.waiting
      ? Promise.resolve({
          healthy: false,
          reason: `the event worker waits for the event queue "${this.queue.name}" to answer (start-up)`,
          details: { consuming: true },
        })
      : probeWorker(this.worker.activity(), this.queue, limits);
    const [queueHealth, workerHealth] = await Promise.all([queue, worker]);
    return { queue: queueHealth, worker: workerHealth };
  }

  static async start(deps: BusRuntimeDeps): Promise<BusRuntime> {
    const { backend, settings } = deps;
    const queue = deps.options.queue ?? backend.createQueue(settings.queueName);
    const runtime = new BusRuntime(
      deps,
      queue,
      deps.options.queue === undefined,
      new EventEnqueuer(queue, settings.enqueueTimeoutMs, settings.jobBatchSize),
    );
    try {
      await runtime.startParts();
    } catch (error) {
      await runtime.drain().catch(() => undefined);
      await runtime.close().catch(() => undefined);
      throw error;
    }
    return runtime;
  }

  private async startParts(): Promise<void> {
    const { backend, settings, ledger, subscriptions, logger } = this.deps;
    const answered = await this.waitForQueue();
    if (answered && backend.kind === 'redis') await warnUnlessNoEviction(this.queue, logger, settings.enqueueTimeoutMs);

    if (settings.relay) {
      this.relay = new OutboxRelay(ledger.outbox, this.enqueuer, settings.relay, logger);
      await this.relay.start(settings.enqueueTimeoutMs);
      this.lostJobs = new LostJobRecovery({
        queue: this.queue,
        unfinished: ledger.unfinished,
        deliveries: ledger.deliveries,
        enqueuer: this.enqueuer,
        logger,
        intervalMs: settings.relay.lostJobCheckIntervalMs,
        batchSize: settings.relay.batchSize,
        timeoutMs: settings.enqueueTimeoutMs,
        subscriptions,
        defaultRetry: settings.defaultRetry,
      });
      this.lostJobs.start();
    }

    if (settings.worker) {
      this.worker = new EventDeliveryWorker({
        queueName: this.queue.name,
        prefix: backend.kind === 'redis' ? (this.queue.opts.prefix ?? backend.prefix) : undefined,
        connection: backend.workerConnection,
        WorkerClass: backend.WorkerClass,
        queue: this.queue,
        subscriptions,
        defaultRetry: settings.defaultRetry,
        concurrency: settings.concurrency,
        prefetch: settings.prefetch,
        workerOptions: this.deps.options.workerOptions,
        deliveries: ledger.deliveries,
        statuses: ledger.statuses,
        inbox: ledger.inbox,
        logger,
        queueTimeoutMs: settings.enqueueTimeoutMs,
        shutdownTimeoutMs: settings.shutdownTimeoutMs,
        handlerTimeoutMs: settings.handlerTimeoutMs,
        instruments: this.deps.instruments,
      });
      if (!answered) {
        // Start-up goes on without the queue (the app can serve, publishing stores events); the
        // worker starts once the queue answers.
        this.startRetry = new QueueStartRetry({
          what: `The event queue "${this.queue.name}"`,
          probe: () => this.queueAnswersNow(),
          lastError: () => this.lastQueueError,
          onReachable: () => this.startWorker(),
          logger,
        });
        this.startRetry.start();
        return;
      }
      await this.startWorker();
      return;
    }
    this.logStarted();
  }

  private async startWorker(): Promise<void> {
    await this.worker?.start(this.queueReadyTimeoutMs());
    this.logStarted();
  }

  private logStarted(): void {
    const { backend, settings, logger } = this.deps;
    const on = backend.kind === 'redis' ? 'Redis' : "BullMQ's PostgreSQL backend";
    const consuming = this.worker
      ? `consuming with concurrency ${settings.concurrency} (prefetch ${settings.prefetch})`
      : 'publish-only (worker: false)';
    logger.log(
      `Event bus started: queue "${this.queue.name}" on ${on}, ${consuming}, relay ${settings.relay ? 'on' : 'off'}.`,
    );
  }

  private queueReadyTimeoutMs(): number {
    const { backend, settings } = this.deps;
    return backend.kind === 'postgres' ? POSTGRES_QUEUE_READY_TIMEOUT_MS : settings.enqueueTimeoutMs;
  }

  /**
   * Waits, boundedly, for the queue to answer, so the first publish can enqueue at once. A queue that
   * does not answer is no reason to refuse start-up: events are stored and the relay enqueues them.
   * Resolves to whether it answered.
   */
  private async waitForQueue(): Promise<boolean> {
    const timeoutMs = this.queueReadyTimeoutMs();
    try {
      await withDeadline(this.queue.waitUntilReady(), timeoutMs, `The event queue "${this.queue.name}"`);
      return await this.queueAnswersNow();
    } catch (error) {
      const reason = this.lastQueueError ? ` (${this.lastQueueError})` : '';
      this.deps.logger.warn(
        `${(error as Error).message}${reason}. Publishing stores events meanwhile; the outbox relay enqueues them ` +
          'once it answers.',
      );
      return false;
    }
  }

  /** One bounded question to the queue's server; never rejects. */
  private async queueAnswersNow(): Promise<boolean> {
    const timeoutMs = this.queueReadyTimeoutMs();
    if (this.deps.backend.kind === 'redis') return queueAnswers(this.queue, timeoutMs);
    return withDeadline(this.queue.waitUntilReady(), timeoutMs, 'The event queue').then(
      () => true,
      () => false,
    );
  }

  /** Stops the start-up retry and drains the worker (its running handlers finish, bounded). */
  async drain(): Promise<void> {
    const errors: unknown[] = [];
    // A worker still waiting for its queue never started: nothing to drain.
    await collect(errors, this.startRetry && (() => this.startRetry!.stop()));
    // Running handlers finish first; what they publish is stored and enqueued (or left to the relay).
    await collect(errors, this.worker && (() => this.worker!.close()));
    throwCollected(errors);
  }

  /**
   * Stops the relay and recovery, then closes the queue if it is ours. Each step waits at most
   * `enqueueTimeoutMs` (PostgreSQL or Redis may hang) and runs even if an earlier one failed.
   */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    const { settings, logger } = this.deps;
    const stepMs = settings.enqueueTimeoutMs;
    await Promise.all([
      collect(errors, this.relay && (() => this.relay!.stop(stepMs))),
      collect(errors, this.lostJobs && (() => this.lostJobs!.stop(stepMs))),
    ]);
    this.closed = true;
    if (this.ownsQueue) await collect(errors, () => closeQueueWithin(this.queue, settings.enqueueTimeoutMs, logger));
    if (!this.ownsQueue) {
      // A queue someone else owns is theirs again; a closed queue of our own keeps the silent listener.
      this.queue.off('error', this.onQueueError);
      this.queue.getBackend().removeListener('ready', this.onQueueReady);
    }
    throwCollected(errors);
  }
}

async function collect(errors: unknown[], work: (() => Promise<void>) | undefined): Promise<void> {
  try {
    await work?.();
  } catch (error) {
    errors.push(error);
  }
}

function throwCollected(errors: unknown[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, 'Closing the event transport failed in several steps');
}
