/**
 * The core bus: validate → append → dispatch, the micro-batched publish path, transactional publish
 * through the outbox, subscribe, replay, failed deliveries and readiness. It depends on ports only:
 * the `EventStore`, the store's `DeliveryLedger` and an `EventTransport`. `BullMQEventBus` is this
 * bus on the BullMQ transport; `InMemoryEventBus` (./testing) is this bus on the in-memory one.
 */
import type { LoggerService } from '@nestjs/common';
import type { NewDomainEvent, StoredEvent } from '../events/domain-event.js';
import { prepareEvents, validateEvent } from '../events/event-validator.js';
import { EventBusNotReadyError, EventValidationError } from '../shared/errors.js';
import { OrderedHandlers, type OrderedRunSettings } from '../ordered/ordered-handlers.js';
import type { OrderedFailures } from '../ordered/ordered-consumer.js';
import type { EventQueryOptions, EventStore, PruneOptions, WorkflowVersionOptions } from '../store/event-store.js';
import { checkExpectedVersion } from '../store/expected-version.js';
import type { SubscriptionManager } from '../subscriptions/subscription-manager.js';
import type { EventHandler, SubscribeOptions, Subscription } from '../subscriptions/subscription.js';
import { EventBus } from './event-bus.js';
import type {
  EventBusReadiness,
  FailedDelivery,
  FailedDeliveryFilter,
  FailedDeliveryQuery,
  OrderedHandlerState,
  PublishOptions,
  ResetOrderedHandlerOptions,
  ReplayOptions,
  ReplayResult,
} from './event-bus.js';
import { describeError } from '../subscriptions/handler-runner.js';
import { probeBusHealth } from './bus-health-probe.js';
import { resolveHealthOptions, type EventBusHealth, type EventBusHealthOptions } from './event-bus-health.js';
import { EventPublisher } from './event-publisher.js';
import { EventReplayer } from './event-replayer.js';
import { checkFailedDeliveryFilter } from './failed-delivery-filter.js';
import type { DeliveryLedger } from './ports/delivery-ledger.js';
import type { EventTransport } from './ports/event-transport.js';
import { busGaugeSource } from './bus-gauge-source.js';
import { NO_INSTRUMENTS, type EventBusInstruments } from '../observability/event-bus-instruments.js';
import { startPublishTrace } from '../observability/tracing.js';

/** What the core bus is built from. */
export interface DurableEventBusParts {
  eventStore: EventStore;
  /** The store's side of delivery: job ids, outbox, failed deliveries, the schema check. */
  ledger: DeliveryLedger;
  transport: EventTransport;
  subscriptions: SubscriptionManager;
  logger: LoggerService;
  /** The bus's own payload limit, when one was given (checked before the store's, when they differ). */
  maxPayloadBytes?: number;
  /** Deadline of each step of `close()` after the running handlers finished (the publish flush), in ms. */
  closeStepTimeoutMs: number;
  /** Timeout of one call of a handler that declares none, for replays (the transport bounds deliveries). */
  handlerTimeoutMs?: number;
  /** How `initialize()` gets called where this bus is used, for the error of a call made before it. */
  startHint?: string;
  /** How ordered handlers run where the transport consumes. */
  ordered: OrderedRunSettings;
  /** Its metrics (`metrics` option); the transport reports handler calls to the same. @default none */
  instruments?: EventBusInstruments;
}

export class DurableEventBus extends EventBus {
  private readonly replayer: EventReplayer;
  private readonly ordered: OrderedHandlers;
  /** Set when the bus must check payload sizes itself: its limit differs from the store's. */
  private readonly payloadLimit?: number;
  /** Set once started; publishing goes through it until `close()` has drained the transport. */
  private publisher?: EventPublisher;
  private starting?: Promise<void>;
  private closing?: Promise<void>;
  /** Set once `close()` has finished. */
  private closed = false;
  private readonly instruments: EventBusInstruments;
  /** Stops reporting this bus's gauges; set while started. */
  private detachGauges?: () => void;

  constructor(private readonly parts: DurableEventBusParts) {
    super();
    this.payloadLimit = payloadLimitToCheck(parts.maxPayloadBytes, parts.eventStore);
    this.instruments = parts.instruments ?? NO_INSTRUMENTS;
    this.replayer = new EventReplayer({
      eventStore: parts.eventStore,
      subscriptions: parts.subscriptions,
      logger: parts.logger,
      handlerTimeoutMs: parts.handlerTimeoutMs,
      transactions: parts.ledger.transactions,
      instruments: this.instruments,
    });
    this.ordered = new OrderedHandlers({
      log: parts.ledger.ordered,
      subscriptions: parts.subscriptions,
      failures: ledgerFailures(parts.ledger),
      transactions: {
        run: (work) => parts.ledger.transactions.run(work),
        atomic: parts.ledger.inbox.transactional,
      },
      instruments: this.instruments,
      logger: parts.logger,
      settings: parts.ordered,
    });
  }

  /** Checks the schema, starts the transport (and with it the relay and the consumers). Safe to call twice. */
  initialize(): Promise<void> {
    if (this.closing) return Promise.reject(new EventBusNotReadyError('The event bus is closed; create a new one.'));
    this.starting ??= this.start().catch((error: unknown) => {
      this.starting = undefined; // a failed start may be retried
      throw error;
    });
    return this.starting;
  }

  /**
   * Stops taking work and lets running handlers finish — they may still publish — then stops
   * publishing (the batch in flight is flushed) and closes the transport. Every step is bounded, so
   * a store or queue that does not answer delays it but cannot hang it. Safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.starting?.catch(() => undefined);
      try {
        await this.stop();
      } finally {
        this.publisher = undefined;
        this.closed = true;
      }
    })();
    return this.closing;
  }

  readiness(): EventBusReadiness {
    if (this.closing)
      return { ready: false, reason: this.closed ? 'the event bus is closed' : 'the event bus is closing' };
    if (this.publisher) return this.parts.transport.readiness();
    return { ready: false, reason: this.starting ? 'the event bus is starting' : 'initialize() was not called' };
  }

  /**
   * Every check at once, each bounded by `timeoutMs`. Ordered lag is read through
   * `getOrderedHandlers()`, so a subclass's ordered handlers are judged too.
   */
  async checkHealth(options?: EventBusHealthOptions): Promise<EventBusHealth> {
    const resolved = resolveHealthOptions(options);
    return probeBusHealth(
      {
        readiness: this.readiness(),
        transport: this.parts.transport,
        outbox: this.parts.ledger.outbox,
        orderedHandlers: () => this.getOrderedHandlers(),
      },
      resolved,
    );
  }

  async publish<P = unknown>(event: NewDomainEvent<P>, options?: PublishOptions): Promise<StoredEvent<P>> {
    const publisher = await this.ready('publish');
    if (this.payloadLimit !== undefined) validateEvent(event, { maxPayloadBytes: this.payloadLimit });
    const [stored] = await this.traced([event], (traced) => this.publishWith(publisher, traced, true, options));
    return stored as StoredEvent<P>;
  }

  async publishAll<P = unknown>(events: NewDomainEvent<P>[], options?: PublishOptions): Promise<StoredEvent<P>[]> {
    const publisher = await this.ready('publishAll');
    if (!Array.isArray(events)) {
      throw new EventValidationError([{ field: 'events', message: 'must be an array of events' }]);
    }
    if (options?.expectedVersion !== undefined) checkExpectedVersion(options.expectedVersion);
    if (events.length === 0) return [];
    if (this.payloadLimit !== undefined) prepareEvents(events, { maxPayloadBytes: this.payloadLimit });
    const stored = await this.traced(events, (traced) => this.publishWith(publisher, traced, false, options));
    return stored as StoredEvent<P>[];
  }

  /**
   * In the caller's transaction (with `manager`), on a path of its own (with `expectedVersion`: its
   * version check concerns its caller alone), or micro-batched with concurrent publishes.
   */
  private publishWith(
    publisher: EventPublisher,
    events: NewDomainEvent[],
    single: boolean,
    options: PublishOptions | undefined,
  ): Promise<StoredEvent[]> {
    if (options?.manager)
      return publisher.publishInTransaction(events, single, options.manager, options.expectedVersion);
    if (options?.expectedVersion !== undefined)
      return publisher.publishAtVersion(events, single, options.expectedVersion);
    return publisher.publish(events, single);
  }

  async subscribe<P = unknown>(
    pattern: string | string[],
    handler: EventHandler<P>,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    const { subscriptions, transport, logger } = this.parts;
    const subscription = subscriptions.add(pattern, handler, { ...options, source: 'runtime' });
    // An ordered handler subscribed after start-up gets its consumer now.
    if (this.publisher && transport.consuming && subscriptions.get(subscription.handler)?.ordered) {
      await this.ordered.start();
    }
    if (this.publisher && transport.consuming && transport.sharedByProcesses) {
      logger.warn(
        `Handler "${subscription.handler}" was subscribed after start-up: only this process runs it. Other ` +
          `workers of ${transport.name} do not know it, and events they take skip it. Declare ` +
          'handlers with @OnEvent (or subscribe before initialize()) in every worker process.',
      );
    }
    return subscription;
  }

  async unsubscribe(subscription: Subscription): Promise<void> {
    this.parts.subscriptions.remove(subscription);
    await this.ordered.stopHandler(subscription.handler);
  }

  getEventsByWorkflowId<P = unknown>(workflowId: string, options?: EventQueryOptions): Promise<StoredEvent<P>[]> {
    return this.parts.eventStore.getEventsByWorkflowId<P>(workflowId, options);
  }

  getWorkflowVersion(workflowId: string, options?: WorkflowVersionOptions): Promise<number> {
    return this.parts.eventStore.getWorkflowVersion(workflowId, options);
  }

  /** Needs only the store and the handlers: works before `initialize()` too (e.g. in a script). */
  replayEvents(from: Date, options?: ReplayOptions): Promise<ReplayResult> {
    return this.replayer.replay(from, options);
  }

  /** One query, bounded by the store's deadline. */
  async getFailedDeliveries(filter?: FailedDeliveryQuery): Promise<FailedDelivery[]> {
    await this.ready('getFailedDeliveries');
    checkFailedDeliveryFilter(filter, { paging: true }); // before any SQL
    return this.parts.ledger.failed.listFailed(filter);
  }

  /** The transport re-drives them (it owns the queue), through the ledger's records. */
  async retryFailed(filter?: FailedDeliveryFilter): Promise<number> {
    await this.ready('retryFailed');
    checkFailedDeliveryFilter(filter, { paging: false }); // before any SQL, the probe's included
    return this.parts.transport.redriveFailed(filter ?? {});
  }

  /** Only the store is needed: works before `initialize()` too (a scheduled job, a CLI command). */
  pruneEvents(options: PruneOptions): Promise<number> {
    return this.parts.eventStore.prune(options);
  }

  /** Whether the ordered handlers running here have nothing left to do for now (the test harness's idle wait). */
  protected orderedSettled(): Promise<boolean> {
    return this.ordered.settled();
  }

  /** What the ordered handlers running here are doing (the test harness's messages). */
  protected orderedWork(): string[] {
    return this.ordered.describeWork();
  }

  /** Reads the ordered handlers' tables only: works in any process (a CLI, a publish-only app). */
  getOrderedHandlers(): Promise<OrderedHandlerState[]> {
    return this.ordered.standings();
  }

  async resetOrderedHandler(name: string, options: ResetOrderedHandlerOptions = {}): Promise<void> {
    const from = options.from ?? 'beginning';
    if (from !== 'beginning' && !(from instanceof Date && !Number.isNaN(from.getTime()))) {
      throw new EventValidationError([{ field: 'from', message: "must be a valid Date or 'beginning'" }]);
    }
    await this.ordered.reset(name, from);
  }

  private async start(): Promise<void> {
    const { eventStore, ledger, transport, logger } = this.parts;
    // Before anything connects: a missing prom-client and an unmigrated database are configuration errors.
    await this.instruments.ready();
    await ledger.assertSchemaMigrated();
    await transport.start();
    this.publisher = new EventPublisher(eventStore, transport, ledger, logger, this.instruments);
    this.detachGauges = this.instruments.attach(
      busGaugeSource(ledger.gauges, transport, () => this.getOrderedHandlers()),
    );
    // Ordered handlers run where queue handlers do: in a consuming process.
    if (transport.consuming) await this.ordered.start();
  }

  /**
   * Publishes inside one `publish <type>` span per event, the events carrying its trace context
   * (observability/tracing.ts); without an OpenTelemetry SDK, publishes as they are.
   */
  private async traced(
    events: NewDomainEvent[],
    publish: (events: NewDomainEvent[]) => Promise<StoredEvent[]>,
  ): Promise<StoredEvent[]> {
    const trace = startPublishTrace(events);
    if (!trace) return publish(events);
    try {
      const stored = await publish(trace.events);
      trace.end({ stored });
      return stored;
    } catch (error) {
      trace.end({ error });
      throw error;
    }
  }

  /**
   * The order that loses nothing: drain the consumers while publishing still works (a handler may
   * publish the next event of a workflow), stop publishing (the batch in flight is flushed), then
   * close the transport. Each step runs even if an earlier one failed.
   */
  private async stop(): Promise<void> {
    const publisher = this.publisher;
    if (!publisher) return; // never started: nothing to stop
    this.detachGauges?.();
    this.detachGauges = undefined;
    const { transport, closeStepTimeoutMs } = this.parts;
    const errors: unknown[] = [];
    const step = async (work: () => Promise<void>): Promise<void> => {
      try {
        await work();
      } catch (error) {
        errors.push(...(error instanceof AggregateError ? (error.errors as unknown[]) : [error]));
      }
    };
    await step(() => this.ordered.stop());
    await step(() => transport.drain());
    await step(() => publisher.close(closeStepTimeoutMs));
    await step(() => transport.close());
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'Closing the event bus failed in several steps');
  }

  /**
   * The started publisher; a call made while `initialize()` is still in progress waits for it. While
   * `close()` drains the consumers the bus still works, so handlers finishing their job can publish.
   */
  private async ready(method: string): Promise<EventPublisher> {
    if (!this.publisher && this.starting && !this.closing) await this.starting.catch(() => undefined);
    const publisher = this.publisher;
    if (publisher?.accepting) return publisher;
    throw new EventBusNotReadyError(
      this.closed
        ? `${method}() was called after close() had finished; create a new event bus.`
        : this.closing
          ? `${method}() was called while the event bus was closing, after its running handlers had finished; ` +
            'create a new event bus.'
          : `${method}() was called before initialize(): await bus.initialize() first ` +
            `(${this.parts.startHint ?? 'the Nest module does it on bootstrap'}).`,
    );
  }
}

/** Ordered handlers' exhausted deliveries are failed deliveries like any other: in the ledger's records. */
function ledgerFailures(ledger: DeliveryLedger): OrderedFailures {
  return {
    async record(event, handler, attempts, error) {
      await ledger.deliveries.insertMissing([
        { eventId: event.id, handler, status: 'failed', attempts, lastError: describeError(error), jobId: null },
      ]);
      await ledger.deliveries.finalizeEvent(event.id, event.metadata?.jobId ?? event.id);
    },
    async succeededSince(eventId, handler) {
      const state = await ledger.deliveries.eventState(eventId);
      return state?.records.some((record) => record.handler === handler && record.status === 'succeeded') ?? false;
    },
  };
}

/**
 * The store validates every event it appends, with its own payload limit. The bus checks first only
 * when its own `maxPayloadBytes` is given and differs, so an event is normally validated once.
 */
function payloadLimitToCheck(busLimit: number | undefined, eventStore: EventStore): number | undefined {
  if (busLimit === undefined) return undefined;
  return eventStore.maxPayloadBytes === busLimit ? undefined : busLimit;
}
