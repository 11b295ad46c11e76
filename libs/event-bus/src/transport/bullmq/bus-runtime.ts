/**
 * What a started bus runs: the queue, the publisher, the relay and lost-job recovery, the worker.
 * Built in `start` (which undoes what it built if a later step fails) and torn down in `close`, in
 * the order that loses nothing: drain the worker while publishing still works (a handler may publish
 * the next event of a workflow), stop publishing (the batch in flight is flushed), stop the relay,
 * then close the queue — only if the bus created it. Every step is bounded: a queue that does not
 * answer delays shutdown by deadlines, never forever.
 */
import type { LoggerService } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { EventBusOptions } from '../../event-bus.options.js';
import type { EventStore } from '../../store/event-store.js';
import type { SubscriptionManager } from '../../subscriptions/subscription-manager.js';
import { OutboxRelay } from '../outbox/outbox-relay.js';
import { withDeadline } from '../with-deadline.js';
import type { EventBusReadiness } from '../../event-bus.js';
import { closeQueueWithin, queueAnswers } from './bounded-close.js';
import type { BusSettings } from './bus-settings.js';
import { EventDeliveryWorker } from './delivery/event-delivery-worker.js';
import { FailedDeliveries } from './delivery/failed-deliveries.js';
import { EventEnqueuer } from './event-enqueuer.js';
import { EventPublisher } from './event-publisher.js';
import { LostJobRecovery } from './lost-job-recovery.js';
import { QueueStartRetry } from './queue-start-retry.js';
import { warnUnlessNoEviction } from './queue-backend.js';
import type { QueueBackend } from './queue-backend.js';

export interface BusRuntimeDeps {
  options: EventBusOptions;
  backend: QueueBackend;
  settings: BusSettings;
  eventStore: EventStore;
  dataSource: DataSource;
  subscriptions: SubscriptionManager;
  logger: LoggerService;
}

/** How long start-up waits for the PostgreSQL queue backend (it creates its schema on first use). */
const POSTGRES_QUEUE_READY_TIMEOUT_MS = 30_000;

export class BusRuntime {
  readonly publisher: EventPublisher;
  readonly failedDeliveries: FailedDeliveries;
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
    const { eventStore, dataSource, subscriptions, settings, logger } = deps;
    queue.on('error', this.onQueueError);
    queue.getBackend().on('ready', this.onQueueReady);
    this.publisher = new EventPublisher(eventStore, enqueuer, dataSource, logger, settings.storeTimeoutMs);
    this.failedDeliveries = new FailedDeliveries({
      dataSource,
      queue,
      subscriptions,
      defaultRetry: settings.defaultRetry,
    });
  }

  /** Whether publishing (and every call of a running bus) is accepted: until `close` has drained the worker. */
  get accepting(): boolean {
    return this.publisher.accepting;
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
      await runtime.close().catch(() => undefined);
      throw error;
    }
    return runtime;
  }

  private async startParts(): Promise<void> {
    const { backend, settings, dataSource, subscriptions, logger } = this.deps;
    const answered = await this.waitForQueue();
    if (answered && backend.kind === 'redis') await warnUnlessNoEviction(this.queue, logger, settings.enqueueTimeoutMs);

    if (settings.relay) {
      this.relay = new OutboxRelay(dataSource, this.enqueuer, settings.relay, logger);
      await this.relay.start(settings.enqueueTimeoutMs);
      this.lostJobs = new LostJobRecovery({
        queue: this.queue,
        dataSource,
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
        dataSource,
        logger,
        queueTimeoutMs: settings.enqueueTimeoutMs,
        shutdownTimeoutMs: settings.shutdownTimeoutMs,
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

  /** Idempotent only through the bus (which calls it once); each step runs even if an earlier one failed. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    const step = async (work: (() => Promise<void>) | undefined): Promise<void> => {
      try {
        await work?.();
      } catch (error) {
        errors.push(error);
      }
    };
    const { settings, logger } = this.deps;
    // A worker still waiting for its queue never started: nothing to drain.
    await step(this.startRetry && (() => this.startRetry!.stop()));
    // Running handlers finish first; what they publish is stored and enqueued (or left to the relay).
    await step(this.worker && (() => this.worker!.close()));
    // Each later step waits at most `enqueueTimeoutMs`: PostgreSQL or Redis may hang.
    const stepMs = settings.enqueueTimeoutMs;
    await step(() => this.publisher.close(stepMs));
    await Promise.all([
      step(this.relay && (() => this.relay!.stop(stepMs))),
      step(this.lostJobs && (() => this.lostJobs!.stop(stepMs))),
    ]);
    this.closed = true;
    if (this.ownsQueue) await step(() => closeQueueWithin(this.queue, settings.enqueueTimeoutMs, logger));
    if (!this.ownsQueue) {
      // A queue someone else owns is theirs again; a closed queue of our own keeps the silent listener.
      this.queue.off('error', this.onQueueError);
      this.queue.getBackend().removeListener('ready', this.onQueueReady);
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'Closing the event bus failed in several steps');
  }
}
