/**
 * `BullMQEventBus`: the `EventBus` on BullMQ (Redis or PostgreSQL backend) with a PostgreSQL event
 * store. It wires the parts — publisher, outbox relay, lost-job recovery, delivery worker, failed
 * deliveries, replay — and owns their start and stop; each part does one job.
 */
import { Logger } from '@nestjs/common';
import type { LoggerService } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { EventBusConfigurationError, EventBusNotReadyError, EventValidationError } from '../../errors.js';
import { EventBus } from '../../event-bus.js';
import type {
  EventBusReadiness,
  FailedDelivery,
  FailedDeliveryFilter,
  PublishOptions,
  ReplayOptions,
  ReplayResult,
} from '../../event-bus.js';
import type { EventBusOptions } from '../../event-bus.options.js';
import { EVENT_BUS_DEFAULTS } from '../../event-bus.options.js';
import { validateEventBusOptions } from '../../event-bus.options.validation.js';
import type { NewDomainEvent, StoredEvent } from '../../events/domain-event.js';
import { prepareEvents, validateEvent } from '../../events/event-validator.js';
import type { EventQueryOptions, EventStore } from '../../store/event-store.js';
import { PersistentEventStore } from '../../store/typeorm/persistent-event-store.js';
import { asStoreError, checkStoreAnswers, withinStoreDeadline } from '../../store/typeorm/store-availability.js';
import { DEFAULT_RETRY_POLICY } from '../../subscriptions/retry-policy.js';
import { SubscriptionManager } from '../../subscriptions/subscription-manager.js';
import type { EventHandler, SubscribeOptions, Subscription } from '../../subscriptions/subscription.js';
import { EventReplayer } from './delivery/event-replayer.js';
import { checkFailedDeliveryFilter } from './delivery/failed-delivery-filter.js';
import { defaultPrefetch } from './delivery/handler-slots.js';
import { resolveRelaySettings } from './bus-settings.js';
import type { BusSettings } from './bus-settings.js';
import { BusRuntime } from './bus-runtime.js';
import { resolveQueueBackend } from './queue-backend.js';
import { assertSchemaMigrated } from './schema-check.js';
import type { QueueBackend } from './queue-backend.js';

export class BullMQEventBus extends EventBus {
  private readonly logger: LoggerService;
  private readonly eventStore: EventStore;
  private readonly dataSource: DataSource;
  private readonly subscriptions: SubscriptionManager;
  private readonly backend: QueueBackend;
  private readonly settings: BusSettings;
  private readonly replayer: EventReplayer;
  /** Set when the bus must check payload sizes itself: its limit differs from the store's. */
  private readonly payloadLimit?: number;
  private runtime?: BusRuntime;
  private starting?: Promise<void>;
  private closing?: Promise<void>;
  /** Set once `close()` has finished. */
  private closed = false;

  constructor(private readonly options: EventBusOptions) {
    super();
    const { eventStore, subscriptions, queue, ...core } = options;
    validateEventBusOptions(core);
    this.logger = core.logger ?? new Logger('EventBus');
    this.eventStore = eventStore;
    this.dataSource = dataSourceOf(eventStore);
    this.subscriptions = subscriptions ?? new SubscriptionManager({ logger: this.logger });
    this.backend = resolveQueueBackend(core, this.dataSource);
    const concurrency = core.concurrency ?? EVENT_BUS_DEFAULTS.concurrency;
    this.settings = {
      queueName: queue?.name ?? core.queueName ?? EVENT_BUS_DEFAULTS.queueName,
      concurrency,
      prefetch: core.prefetch ?? defaultPrefetch(concurrency),
      defaultRetry: core.defaultRetry ?? DEFAULT_RETRY_POLICY,
      worker: core.worker ?? EVENT_BUS_DEFAULTS.worker,
      enqueueTimeoutMs: core.enqueueTimeoutMs ?? EVENT_BUS_DEFAULTS.enqueueTimeoutMs,
      jobBatchSize: core.jobBatchSize ?? EVENT_BUS_DEFAULTS.jobBatchSize,
      shutdownTimeoutMs: core.shutdownTimeoutMs ?? EVENT_BUS_DEFAULTS.shutdownTimeoutMs,
      storeTimeoutMs: core.storeTimeoutMs ?? EVENT_BUS_DEFAULTS.storeTimeoutMs,
      relay: resolveRelaySettings(core.relay),
    };
    this.payloadLimit = payloadLimitToCheck(core.maxPayloadBytes, eventStore);
    this.replayer = new EventReplayer({ eventStore, subscriptions: this.subscriptions, logger: this.logger });
  }

  /** Connects the queue, starts the relay and (unless `worker: false`) the worker. Safe to call twice. */
  initialize(): Promise<void> {
    if (this.closing) return Promise.reject(new EventBusNotReadyError('The event bus is closed; create a new one.'));
    this.starting ??= this.start().catch((error: unknown) => {
      this.starting = undefined; // a failed start may be retried
      throw error;
    });
    return this.starting;
  }

  /**
   * Stops taking jobs and lets running handlers finish — they may still publish — then stops
   * publishing (the batch in flight is flushed), the relay, and closes what the bus opened. Every
   * step is bounded, so a queue that does not answer delays it but cannot hang it. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.starting?.catch(() => undefined);
      try {
        await this.runtime?.close();
      } finally {
        this.runtime = undefined;
        this.closed = true;
      }
    })();
    return this.closing;
  }

  readiness(): EventBusReadiness {
    if (this.closing)
      return { ready: false, reason: this.closed ? 'the event bus is closed' : 'the event bus is closing' };
    if (this.runtime) return this.runtime.readiness();
    return { ready: false, reason: this.starting ? 'the event bus is starting' : 'initialize() was not called' };
  }

  async publish<P = unknown>(event: NewDomainEvent<P>, options?: PublishOptions): Promise<StoredEvent<P>> {
    const runtime = await this.ready('publish');
    if (this.payloadLimit !== undefined) validateEvent(event, { maxPayloadBytes: this.payloadLimit });
    const events = [event as NewDomainEvent];
    const [stored] = options?.manager
      ? await runtime.publisher.publishInTransaction(events, true, options.manager)
      : await runtime.publisher.publish(events, true);
    return stored as StoredEvent<P>;
  }

  async publishAll<P = unknown>(events: NewDomainEvent<P>[], options?: PublishOptions): Promise<StoredEvent<P>[]> {
    const runtime = await this.ready('publishAll');
    if (!Array.isArray(events)) {
      throw new EventValidationError([{ field: 'events', message: 'must be an array of events' }]);
    }
    if (events.length === 0) return [];
    if (this.payloadLimit !== undefined) prepareEvents(events, { maxPayloadBytes: this.payloadLimit });
    const stored = options?.manager
      ? await runtime.publisher.publishInTransaction(events, false, options.manager)
      : await runtime.publisher.publish(events, false);
    return stored as StoredEvent<P>[];
  }

  async subscribe<P = unknown>(
    pattern: string | string[],
    handler: EventHandler<P>,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    const subscription = this.subscriptions.add(pattern, handler, { ...options, source: 'runtime' });
    if (this.runtime?.consuming) {
      this.logger.warn(
        `Handler "${subscription.handler}" was subscribed after start-up: only this process runs it. Other ` +
          `workers of queue "${this.settings.queueName}" do not know it, and events they take skip it. Declare ` +
          'handlers with @OnEvent (or subscribe before initialize()) in every worker process.',
      );
    }
    return subscription;
  }

  async unsubscribe(subscription: Subscription): Promise<void> {
    this.subscriptions.remove(subscription);
  }

  getEventsByWorkflowId<P = unknown>(workflowId: string, options?: EventQueryOptions): Promise<StoredEvent<P>[]> {
    return this.eventStore.getEventsByWorkflowId<P>(workflowId, options);
  }

  /** Needs only the store and the handlers: works before `initialize()` too (e.g. in a script). */
  replayEvents(from: Date, options?: ReplayOptions): Promise<ReplayResult> {
    return this.replayer.replay(from, options);
  }

  /** One query, bounded by `storeTimeoutMs`. */
  async getFailedDeliveries(filter?: FailedDeliveryFilter): Promise<FailedDelivery[]> {
    const runtime = await this.ready('getFailedDeliveries');
    checkFailedDeliveryFilter(filter); // before any SQL
    return withinStoreDeadline(runtime.failedDeliveries.list(filter), this.settings.storeTimeoutMs);
  }

  /**
   * A re-drive of many deliveries may rightly take longer than one deadline, so the deadline bounds
   * the question whether PostgreSQL answers at all; a connection refused or dropped during the
   * re-drive is reported as `StoreUnavailableError` too.
   */
  async retryFailed(filter?: FailedDeliveryFilter): Promise<number> {
    const runtime = await this.ready('retryFailed');
    checkFailedDeliveryFilter(filter); // before any SQL, the probe's included
    await checkStoreAnswers(this.dataSource, this.settings.storeTimeoutMs);
    try {
      return await runtime.failedDeliveries.retry(filter);
    } catch (error) {
      throw asStoreError(error);
    }
  }

  private async start(): Promise<void> {
    // Before anything connects: an unmigrated database is a configuration error, not an outage.
    await assertSchemaMigrated(this.dataSource);
    this.runtime = await BusRuntime.start({
      options: this.options,
      backend: this.backend,
      settings: this.settings,
      eventStore: this.eventStore,
      dataSource: this.dataSource,
      subscriptions: this.subscriptions,
      logger: this.logger,
    });
  }

  /**
   * The running parts; a call made while `initialize()` is still in progress waits for it. While
   * `close()` drains the worker the bus still works, so handlers finishing their job can publish.
   */
  private async ready(method: string): Promise<BusRuntime> {
    if (!this.runtime && this.starting && !this.closing) await this.starting.catch(() => undefined);
    const runtime = this.runtime;
    if (runtime?.accepting) return runtime;
    throw new EventBusNotReadyError(
      this.closed
        ? `${method}() was called after close() had finished; create a new event bus.`
        : this.closing
          ? `${method}() was called while the event bus was closing, after its running handlers had finished; ` +
            'create a new event bus.'
          : `${method}() was called before initialize(): await bus.initialize() first (the Nest module does it on bootstrap).`,
    );
  }
}

/** The bus shares the store's DataSource: the outbox, the delivery records and (by default) the PostgreSQL queue live there. */
function dataSourceOf(eventStore: EventStore): DataSource {
  if (eventStore instanceof PersistentEventStore) return eventStore.repository.dataSource;
  throw new EventBusConfigurationError(
    'eventStore',
    'must be a PersistentEventStore (new PersistentEventStore(new EventStoreRepository(dataSource))): the bus ' +
      'keeps its outbox and delivery records in the same database.',
  );
}

/**
 * The store validates every event it appends, with its own payload limit. The bus checks first only
 * when its own `maxPayloadBytes` is given and differs, so an event is normally validated once.
 */
function payloadLimitToCheck(busLimit: number | undefined, eventStore: EventStore): number | undefined {
  if (busLimit === undefined) return undefined;
  // The store keeps its limit in a private field; read at run time, it tells whether the two agree.
  const storeLimit = (eventStore as unknown as { maxPayloadBytes?: unknown }).maxPayloadBytes;
  return storeLimit === busLimit ? undefined : busLimit;
}
