/**
 * The `EventTransport` in memory: what the BullMQ transport does through a queue, done in this
 * process with the same pieces (the subscription registry, the handler runner, the retry policy and
 * its delays, the failure log) and the same ledger ports for statuses and records. `InMemoryEventBus`
 * is the core bus on it. Deliveries start after the current turn, as a queue's would; retry waits
 * take no time unless `realDelays`.
 */
import type { LoggerService } from '@nestjs/common';
import type { DeliveryLedger } from '../../core/ports/delivery-ledger.js';
import { runOnceThrough } from '../../core/ports/handler-inbox.js';
import type { DispatchOptions, EventBusReadiness, EventTransport } from '../../core/ports/event-transport.js';
import type { TransportHealth } from '../../core/ports/transport-health.js';
import type { FailedDeliveryClaim, FailedDeliveryFilter } from '../../core/ports/failed-delivery-records.js';
import { EventBusNotReadyError } from '../../shared/errors.js';
import type { StoredEvent } from '../../events/domain-event.js';
import type { RetryPolicy } from '../../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../../subscriptions/subscription-manager.js';
import { HandlerErrors } from './handler-errors.js';
import { EventJobRunner } from './in-memory-event-job.js';
import { HandlerJobRunner, handlerJob, type InMemoryHandlerJob } from './in-memory-handler-job.js';
import { RetryWaits } from './retry-waits.js';
import { WorkTracker } from './work-tracker.js';
import type { EventBusInstruments } from '../../observability/event-bus-instruments.js';

export interface InMemoryEventTransportDeps {
  ledger: Pick<DeliveryLedger, 'statuses' | 'deliveries' | 'failed' | 'inbox'>;
  subscriptions: SubscriptionManager;
  defaultRetry: RetryPolicy;
  /** Wait the retry policies' delays instead of retrying at once. */
  realDelays: boolean;
  /** How long `drain()` lets running handlers finish, in ms. */
  shutdownTimeoutMs: number;
  /** Timeout of one attempt of a handler that declares none, in ms. @default none */
  handlerTimeoutMs?: number;
  logger: LoggerService;
  /** The bus's metrics (handler durations and outcomes). @default none */
  instruments?: EventBusInstruments;
}

export class InMemoryEventTransport implements EventTransport {
  readonly name = 'the in-memory transport';
  /** Nothing outside this process consumes its jobs: a handler subscribed late misses nothing. */
  readonly sharedByProcesses = false;
  readonly errors = new HandlerErrors();
  private readonly work = new WorkTracker();
  private readonly waits: RetryWaits;
  private readonly eventJobs: EventJobRunner;
  private readonly handlerJobs: HandlerJobRunner;
  /** The event jobs dispatched, by id, in order: a job id dispatched again is not delivered twice. */
  private readonly dispatched = new Set<string>();
  private state: 'new' | 'running' | 'draining' | 'closed' = 'new';
  /** Aborted when `drain()` stops waiting for running handlers: their `context.signal` is aborted with it. */
  private readonly stopWaiting = new AbortController();

  constructor(private readonly deps: InMemoryEventTransportDeps) {
    const { ledger, subscriptions, defaultRetry, logger } = deps;
    this.waits = new RetryWaits(deps.realDelays);
    const limits = {
      defaultTimeoutMs: deps.handlerTimeoutMs,
      stop: this.stopWaiting.signal,
      instruments: deps.instruments,
    };
    const transactions = runOnceThrough(ledger.inbox);
    this.handlerJobs = new HandlerJobRunner({
      limits,
      transactions,
      subscriptions,
      defaultRetry,
      records: ledger.deliveries,
      waits: this.waits,
      errors: this.errors,
      logger,
    });
    this.eventJobs = new EventJobRunner({
      limits,
      transactions,
      subscriptions,
      defaultRetry,
      statuses: ledger.statuses,
      records: ledger.deliveries,
      errors: this.errors,
      logger,
      startHandlerJob: (job) => this.startHandlerJob(job, 'retries'),
    });
  }

  get consuming(): boolean {
    return this.state === 'running' || this.state === 'draining';
  }

  async start(): Promise<void> {
    if (this.state === 'new') this.state = 'running';
  }

  readiness(): EventBusReadiness {
    if (this.state === 'running') return { ready: true };
    return { ready: false, reason: `${this.name} is ${this.state === 'new' ? 'not started' : this.state}` };
  }

  /** No server to reach; its deliveries run in this process, in the same event loop as the check. */
  async checkHealth(): Promise<TransportHealth> {
    const { ready, reason } = this.readiness();
    const details = { backend: 'in-memory' };
    return {
      queue: ready ? { healthy: true, details } : { healthy: false, reason, details },
      worker: this.consuming
        ? { healthy: true, details: { consuming: true, running: this.work.describe().length } }
        : undefined,
    };
  }

  /**
   * Job id = event id. Once `drain()` began, events are taken but not delivered: they stay `pending`,
   * as jobs stay in a queue whose worker stopped.
   */
  async dispatch(events: readonly StoredEvent[], _options: DispatchOptions): Promise<string[]> {
    if (this.state === 'new' || this.state === 'closed') {
      throw new EventBusNotReadyError(`${this.name} is ${this.state === 'new' ? 'not started' : 'closed'}`);
    }
    return events.map((event) => {
      const jobId = event.id;
      if (this.dispatched.has(jobId)) return jobId;
      this.dispatched.add(jobId);
      if (this.state === 'running') {
        this.track(`event ${event.id} (${event.type})`, () => this.eventJobs.run(event, jobId));
      }
      return jobId;
    });
  }

  /** The ledger claims and marks the failed deliveries; each becomes a handler job with a fresh `maxAttempts`. */
  redriveFailed(filter: FailedDeliveryFilter): Promise<number> {
    const { ledger, subscriptions, defaultRetry } = this.deps;
    return ledger.failed.redriveFailed(
      filter,
      (claims: readonly FailedDeliveryClaim[]) => {
        const jobs = claims.map((claim) => {
          const registered = subscriptions.get(claim.handler);
          return handlerJob({
            event: { ...claim.event, status: 'processing' },
            handler: claim.handler,
            attemptsBefore: 0,
            run: claim.run,
            policy: registered ? (registered.retry ?? defaultRetry) : undefined,
            delay: 0,
          });
        });
        return {
          jobIds: jobs.map((job) => job.id),
          enqueue: async () => jobs.forEach((job) => this.startHandlerJob(job, 're-drive')),
        };
      },
      // No queue keeps the replaced runs' failed jobs: nothing to remove.
      async () => undefined,
    );
  }

  /**
   * Stops retrying (pending waits end, leaving their deliveries `retrying` and the events
   * unfinished, as delayed jobs stay in a queue) and lets running handlers finish, for up to
   * `shutdownTimeoutMs`. Handlers finishing may still publish; what they publish is not delivered.
   */
  async drain(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'draining';
    this.waits.cancel();
    const { shutdownTimeoutMs, logger } = this.deps;
    if (!(await this.work.idle(shutdownTimeoutMs))) {
      this.stopWaiting.abort(
        new Error(`shutdown stopped waiting for the handler after shutdownTimeoutMs (${shutdownTimeoutMs} ms)`),
      );
      logger.warn(
        `Closed with handlers still running after ${shutdownTimeoutMs} ms: ${this.work.describe().join(', ')}`,
      );
    }
  }

  async close(): Promise<void> {
    this.waits.cancel();
    this.state = 'closed';
  }

  /** Resolves true once every delivery and retry has settled, including those they started; false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    return this.work.idle(timeoutMs);
  }

  /** What is still being delivered, for the message of an idle wait that ran out. */
  running(): string[] {
    return this.work.describe();
  }

  /** Ids of the events dispatched (the events the bus published), in order. */
  published(): string[] {
    return [...this.dispatched];
  }

  /** Forgets what was dispatched and the handlers' errors (the store forgets the events and records). */
  reset(): void {
    this.dispatched.clear();
    this.errors.clear();
  }

  private startHandlerJob(job: InMemoryHandlerJob, what: 'retries' | 're-drive'): void {
    const { event, handler } = job;
    this.track(`${what} of ${handler} for event ${event.id} (${event.type})`, () => this.handlerJobs.run(job));
  }

  /** Runs `work` after the current turn, as a queue would, and follows it until it settles. */
  private track(what: string, work: () => Promise<void>): void {
    const started = new Promise<void>((resolve) => setImmediate(resolve)).then(work).catch((error: unknown) => {
      this.deps.logger.error(`In-memory delivery of ${what} failed: ${String(error)}`, (error as Error)?.stack);
    });
    this.work.track(what, started);
  }
}
