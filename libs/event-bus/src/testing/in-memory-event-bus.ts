/**
 * `InMemoryEventBus`: the `EventBus` without PostgreSQL or Redis, for unit tests. It validates,
 * stores (in an `EventStore`, in memory by default), routes and retries as `BullMQEventBus` does,
 * sharing its pieces (validation, the subscription registry, the handler runner, retry delays,
 * replay); the same contract suite runs against both. Retry waits take no time unless `realDelays`.
 */
import { Logger, type LoggerService } from '@nestjs/common';
import { EventBusError, EventBusNotReadyError, EventValidationError } from '../shared/errors.js';
import { EventBus } from '../core/event-bus.js';
import type {
  EventBusReadiness,
  FailedDelivery,
  FailedDeliveryFilter,
  PublishOptions,
  ReplayOptions,
  ReplayResult,
} from '../core/event-bus.js';
import { EVENT_BUS_DEFAULTS } from '../core/event-bus.options.js';
import type { NewDomainEvent, StoredEvent } from '../events/domain-event.js';
import { prepareEvents, validateEvent } from '../events/event-validator.js';
import type { AppendedEvent, EventQueryOptions, EventStore } from '../store/event-store.js';
import { validateRetryPolicy } from '../subscriptions/backoff.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../subscriptions/retry-policy.js';
import { SubscriptionManager } from '../subscriptions/subscription-manager.js';
import type { EventHandler, SubscribeOptions, Subscription } from '../subscriptions/subscription.js';
import { EventReplayer } from '../core/event-replayer.js';
import { checkFailedDeliveryFilter } from '../core/failed-delivery-filter.js';
import { DeliveryRecords, toFailedDelivery, type RecordedFailure } from './delivery-records.js';
import { InMemoryDelivery } from './in-memory-delivery.js';
import { InMemoryEventStore } from './in-memory-event-store.js';
import { RetryWaits } from './retry-waits.js';
import { WorkTracker } from './work-tracker.js';

export interface InMemoryEventBusOptions {
  /** Where events are stored. @default a new `InMemoryEventStore` with `maxPayloadBytes` */
  eventStore?: EventStore;
  /** The handler registry (the testing module shares it with `@OnEvent` discovery). @default a new one */
  subscriptions?: SubscriptionManager;
  /** Retry policy of handlers that declare none. @default 3 attempts, exponential from 1 s */
  defaultRetry?: RetryPolicy;
  /** Wait the retry policy's delays between attempts instead of retrying at once. @default false */
  realDelays?: boolean;
  /** Largest accepted payload (and metadata), as serialized JSON bytes. @default 1048576 (1 MiB) */
  maxPayloadBytes?: number;
  /** How long `close()` waits for running handlers, in ms. @default 10000 */
  shutdownTimeoutMs?: number;
  /** Receives handler failures (WARN while retries remain, ERROR when a delivery failed). @default Nest's `Logger` */
  logger?: LoggerService;
}

/** Something about one event changed (published, or a new status): the harness re-checks what it waits for. */
export type EventChangeListener = (eventId: string) => void;

export class InMemoryEventBus extends EventBus {
  readonly eventStore: EventStore;
  readonly subscriptions: SubscriptionManager;
  private readonly logger: LoggerService;
  private readonly records = new DeliveryRecords();
  private readonly work = new WorkTracker();
  private readonly waits: RetryWaits;
  private readonly delivery: InMemoryDelivery;
  private readonly replayer: EventReplayer;
  private readonly payloadLimit: number | undefined;
  private readonly shutdownTimeoutMs: number;
  private readonly listeners = new Set<EventChangeListener>();
  /** Ids of the events this bus published (stored for the first time), in order. */
  private readonly publishedIds: string[] = [];
  private state: 'new' | 'running' | 'closing' | 'closed' = 'new';
  private closing?: Promise<void>;

  constructor(options: InMemoryEventBusOptions = {}) {
    super();
    this.logger = options.logger ?? new Logger('EventBus');
    this.eventStore = options.eventStore ?? new InMemoryEventStore({ maxPayloadBytes: options.maxPayloadBytes });
    // A store given with its own limit: the bus checks its own first, as BullMQEventBus does.
    this.payloadLimit = options.eventStore ? options.maxPayloadBytes : undefined;
    this.subscriptions = options.subscriptions ?? new SubscriptionManager({ logger: this.logger });
    const defaultRetry =
      options.defaultRetry === undefined
        ? DEFAULT_RETRY_POLICY
        : validateRetryPolicy(options.defaultRetry, 'defaultRetry');
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? EVENT_BUS_DEFAULTS.shutdownTimeoutMs;
    this.waits = new RetryWaits(options.realDelays ?? false);
    this.delivery = new InMemoryDelivery({
      eventStore: this.eventStore,
      subscriptions: this.subscriptions,
      defaultRetry,
      records: this.records,
      waits: this.waits,
      logger: this.logger,
      onStatus: (eventId) => this.notify(eventId),
    });
    this.replayer = new EventReplayer({
      eventStore: this.eventStore,
      subscriptions: this.subscriptions,
      logger: this.logger,
    });
  }

  async initialize(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') {
      throw new EventBusNotReadyError('The event bus is closed; create a new one.');
    }
    this.state = 'running';
  }

  /**
   * Stops retrying (waits still pending end, leaving their deliveries `retrying` and the events
   * `processing`, as delayed jobs stay in a queue) and lets running handlers finish, for up to
   * `shutdownTimeoutMs`. Handlers finishing may still publish. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.state === 'new') {
        this.state = 'closed';
        return;
      }
      this.state = 'closing';
      this.waits.cancel();
      if (!(await this.work.idle(this.shutdownTimeoutMs))) {
        this.logger.warn(
          `Closed with handlers still running after ${this.shutdownTimeoutMs} ms: ${this.work.describe().join(', ')}`,
        );
      }
      this.state = 'closed';
    })();
    return this.closing;
  }

  readiness(): EventBusReadiness {
    if (this.state === 'running') return { ready: true };
    if (this.state === 'new') return { ready: false, reason: 'initialize() was not called' };
    return { ready: false, reason: this.state === 'closed' ? 'the event bus is closed' : 'the event bus is closing' };
  }

  async publish<P = unknown>(event: NewDomainEvent<P>, options?: PublishOptions): Promise<StoredEvent<P>> {
    this.ready('publish', options);
    const [stored] = await this.store([event], true);
    return stored as StoredEvent<P>;
  }

  async publishAll<P = unknown>(events: NewDomainEvent<P>[], options?: PublishOptions): Promise<StoredEvent<P>[]> {
    this.ready('publishAll', options);
    if (!Array.isArray(events)) {
      throw new EventValidationError([{ field: 'events', message: 'must be an array of events' }]);
    }
    if (events.length === 0) return [];
    return (await this.store(events, false)) as StoredEvent<P>[];
  }

  async subscribe<P = unknown>(
    pattern: string | string[],
    handler: EventHandler<P>,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    return this.subscriptions.add(pattern, handler, { ...options, source: 'runtime' });
  }

  async unsubscribe(subscription: Subscription): Promise<void> {
    this.subscriptions.remove(subscription);
  }

  getEventsByWorkflowId<P = unknown>(workflowId: string, options?: EventQueryOptions): Promise<StoredEvent<P>[]> {
    return this.eventStore.getEventsByWorkflowId<P>(workflowId, options);
  }

  /** Needs only the store and the handlers: works before `initialize()` too, as on the real bus. */
  replayEvents(from: Date, options?: ReplayOptions): Promise<ReplayResult> {
    return this.replayer.replay(from, options);
  }

  async getFailedDeliveries(filter?: FailedDeliveryFilter): Promise<FailedDelivery[]> {
    this.ready('getFailedDeliveries');
    checkFailedDeliveryFilter(filter);
    return this.records.failed(filter).map((record) => {
      const { error: _error, ...delivery } = toFailedDelivery(record);
      return delivery;
    });
  }

  /** Each matching failed delivery runs again under its handler's policy, with a fresh `maxAttempts`. */
  async retryFailed(filter?: FailedDeliveryFilter): Promise<number> {
    this.ready('retryFailed');
    checkFailedDeliveryFilter(filter);
    const redriven = this.records.failed(filter);
    for (const record of redriven) {
      Object.assign(record, { status: 'retrying', attempts: 0, failedAt: null, run: record.run + 1 });
    }
    for (const eventId of new Set(redriven.map((record) => record.eventId))) {
      await this.eventStore.updateStatus(eventId, 'processing');
      this.notify(eventId);
    }
    for (const { eventId, handler } of redriven) {
      this.track(`re-drive of ${handler} for event ${eventId}`, () => this.delivery.redrive(eventId, handler));
    }
    return redriven.length;
  }

  /** Resolves once every delivery and retry has settled, including those they started; false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    return this.work.idle(timeoutMs);
  }

  /** What is still being delivered, for the message of an idle wait that ran out. */
  running(): string[] {
    return this.work.describe();
  }

  /** Ids of the events this bus published, in order. */
  published(): readonly string[] {
    return this.publishedIds;
  }

  /** The failed deliveries, with the errors the handlers threw. */
  failures(): RecordedFailure[] {
    return this.records.failed().map(toFailedDelivery);
  }

  /** Listens to every change of an event this bus makes; returns the function that stops listening. */
  onChange(listener: EventChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Forgets what was published and every delivery record (handlers stay subscribed). */
  reset(): void {
    this.publishedIds.length = 0;
    this.records.clear();
  }

  private async store(events: NewDomainEvent[], single: boolean): Promise<StoredEvent[]> {
    if (this.payloadLimit !== undefined) {
      const limit = { maxPayloadBytes: this.payloadLimit };
      if (single) validateEvent(events[0], limit);
      else prepareEvents(events, limit);
    }
    let appended: AppendedEvent[];
    try {
      appended = await this.eventStore.append(events);
    } catch (error) {
      // `publish` took one event, not a batch: its error should not speak of "event #0 of the batch".
      if (single && error instanceof EventValidationError && error.index !== undefined) {
        throw new EventValidationError(error.issues, { cause: error.cause });
      }
      throw error;
    }
    const fresh = [
      ...new Map(appended.filter((entry) => entry.inserted).map(({ event }) => [event.id, event])).values(),
    ];
    for (const event of fresh) {
      // The job id the queue adapter records: the event's id.
      await this.eventStore.updateStatus(event.id, 'pending', event.id);
      event.metadata = { ...event.metadata, jobId: event.id };
      this.publishedIds.push(event.id);
      this.track(`event ${event.id} (${event.type})`, () => this.delivery.deliver(event));
    }
    for (const event of fresh) this.notify(event.id);
    return appended.map(({ event }) => event);
  }

  /** Runs `work` after the current turn, as a queue would, and follows it until it settles. */
  private track(what: string, work: () => Promise<void>): void {
    const started = new Promise<void>((resolve) => setImmediate(resolve)).then(work).catch((error: unknown) => {
      this.logger.error(`In-memory delivery of ${what} failed: ${String(error)}`, (error as Error)?.stack);
    });
    this.work.track(what, started);
  }

  private notify(eventId: string): void {
    for (const listener of this.listeners) listener(eventId);
  }

  private ready(method: string, options?: PublishOptions): void {
    if (options?.manager !== undefined) {
      throw new EventBusError(
        "InMemoryEventBus has no database, so it cannot join the caller's transaction (the `manager` option). " +
          'Test code that publishes inside a TypeORM transaction against PostgreSQL (BullMQEventBus).',
      );
    }
    if (this.state === 'running' || this.state === 'closing') return;
    throw new EventBusNotReadyError(
      this.state === 'closed'
        ? `${method}() was called after close() had finished; create a new event bus.`
        : `${method}() was called before initialize(): await bus.initialize() first (in a Nest testing module, ` +
            'await moduleRef.init() or app.init() runs it).',
    );
  }
}
