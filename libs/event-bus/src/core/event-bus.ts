import type { EntityManager } from 'typeorm';
import type { NewDomainEvent, StoredEvent } from '../events/domain-event.js';
import type { EventQueryOptions, PruneOptions, WorkflowVersionOptions } from '../store/event-store.js';
import type { EventHandler, SubscribeOptions, Subscription } from '../subscriptions/subscription.js';
import type { EventBusHealth, EventBusHealthOptions } from './event-bus-health.js';
import type { EventBusReadiness } from './ports/event-transport.js';
import type { FailedDelivery, FailedDeliveryFilter, FailedDeliveryQuery } from './ports/failed-delivery-records.js';

// Declared beside the ports that also speak of them (core/ports never imports this folder).
export type { EventBusReadiness } from './ports/event-transport.js';
export type {
  FailedDelivery,
  FailedDeliveryCursor,
  FailedDeliveryFilter,
  FailedDeliveryQuery,
} from './ports/failed-delivery-records.js';

export interface PublishOptions {
  /** Join the caller's TypeORM transaction: the event is stored with the caller's writes and enqueued after commit. */
  manager?: EntityManager;
  /**
   * Optimistic concurrency: the workflow's last version the caller saw (`getWorkflowVersion`, or the
   * `version` of its last event; `0` for a workflow with no events yet). The event(s), all of one
   * workflow, are stored only if the stream is still at that version; otherwise the call rejects
   * with `EventConcurrencyError` (`actualVersion` says where the stream is) and stores and enqueues
   * nothing. Of several writers racing from the same version, exactly one wins.
   */
  expectedVersion?: number;
}

export interface ReplayProgress {
  /** Events read from the store, whether a handler took them or not (what a count of the same filter totals). */
  read: number;
  /** Events delivered to at least one handler. */
  events: number;
  handlerCalls: number;
  failed: number;
  /** Sequence number of the last event read (0 before the first). */
  lastSequence: number;
}

export interface ReplayOptions {
  /** Only events whose `timestamp` is before this (exclusive). */
  to?: Date;
  types?: string[];
  tenantId?: string;
  workflowId?: string;
  /** Only these handlers (by name); handlers declared with `replay: false` never take part. */
  handlers?: string[];
  /** Only events with a sequence number greater than this one (to resume a replay that was stopped). */
  afterSequence?: number;
  onProgress?: (progress: ReplayProgress) => void;
  /** `onProgress` is called after every this many events read, and once at the end. @default 1000 */
  progressEvery?: number;
  /**
   * Stops the replay once aborted: checked between events (the running event's handlers finish
   * first), so the replay resolves with what it did so far and `stopped: true`; the last
   * `onProgress` says where it stopped (`lastSequence`, to resume with `afterSequence`).
   */
  signal?: AbortSignal;
}

export interface ReplayResult {
  /** Events delivered. */
  events: number;
  /** Handler calls made. */
  handlerCalls: number;
  /** Handler calls that threw. */
  failed: number;
  /** Present (`true`) when `signal` stopped the replay before it read every matching event. */
  stopped?: true;
}

/** A commit-safe position in the log: `(transaction_id, sequence_number)` (DESIGN §1). */
export interface LogPosition {
  /** The writing transaction's id (`xid8`, as a decimal string: it may pass 2^53). */
  transactionId: string;
  sequenceNumber: number;
}

/** One ordered handler as `getOrderedHandlers()` reports it. */
export interface OrderedHandlerState {
  handler: string;
  /** Where its slowest bucket stands; `null` before it handled anything. */
  position: LogPosition | null;
  /** Events of its patterns stored after its checkpoints and not yet handled. */
  lag: number;
  /** Events it gave up on (`onExhausted: 'park'`), recorded as failed deliveries. */
  parked: number;
  /** The processes that own some of its buckets now. */
  owners: string[];
}

export interface ResetOrderedHandlerOptions {
  /** Feed it again from this `timestamp` on, or from the first event (`'beginning'`, the default). */
  from?: Date | 'beginning';
}

/**
 * The event bus; the abstract class is the injection token (`constructor(private readonly bus: EventBus)`).
 * `BullMQEventBus` is the implementation; `InMemoryEventBus` (`./testing`) the one for unit tests.
 */
export abstract class EventBus {
  /** Validates, stores (status `pending`) and enqueues one event. Idempotent by event id. */
  abstract publish<P = unknown>(event: NewDomainEvent<P>, options?: PublishOptions): Promise<StoredEvent<P>>;

  /** As `publish` for a batch, all-or-nothing: one INSERT, one `addBulk`. */
  abstract publishAll<P = unknown>(events: NewDomainEvent<P>[], options?: PublishOptions): Promise<StoredEvent<P>[]>;

  /** Registers a handler in code (for scripts and tests; prefer `@OnEvent` in apps). */
  abstract subscribe<P = unknown>(
    pattern: string | string[],
    handler: EventHandler<P>,
    options?: SubscribeOptions,
  ): Promise<Subscription>;

  abstract unsubscribe(subscription: Subscription): Promise<void>;

  /** A workflow's events in version order (which is also their `sequenceNumber` order). */
  abstract getEventsByWorkflowId<P = unknown>(
    workflowId: string,
    options?: EventQueryOptions,
  ): Promise<StoredEvent<P>[]>;

  /**
   * The workflow's last version, 0 when it has no events: the `expectedVersion` of its next publish.
   * Without `tenantId`, a workflow id with events in more than one tenant is an `EventValidationError`.
   */
  abstract getWorkflowVersion(workflowId: string, options?: WorkflowVersionOptions): Promise<number>;

  /** Re-delivers stored events with `timestamp >= from` to the matching handlers, in sequence order. */
  abstract replayEvents(from: Date, options?: ReplayOptions): Promise<ReplayResult>;

  /** Failed deliveries, oldest failure first; `limit` and `after` (the previous page's last item) page them. */
  abstract getFailedDeliveries(filter?: FailedDeliveryQuery): Promise<FailedDelivery[]>;

  /** Re-drives failed deliveries, each with a fresh `maxAttempts`; resolves to how many. */
  abstract retryFailed(filter?: FailedDeliveryFilter): Promise<number>;

  /**
   * Deletes finished events older than `options.before` (and their delivery records) in short
   * batches, never an unfinished event nor a workflow's newest; resolves to how many (see `EventStore.prune`).
   */
  abstract pruneEvents(options: PruneOptions): Promise<number>;

  /** The ordered handlers (`@OnEvent(..., { ordered: true })`), where each stands and how far behind. */
  abstract getOrderedHandlers(): Promise<OrderedHandlerState[]>;
  /** Moves an ordered handler's checkpoints back, so it is fed again (a projection rebuild). */
  abstract resetOrderedHandler(name: string, options?: ResetOrderedHandlerOptions): Promise<void>;
  /** Connects and starts consuming. Called by the module on bootstrap; safe to call twice. */
  abstract initialize(): Promise<void>;

  /** Stops consuming (running handlers finish) and closes what the bus opened. Safe to call twice. */
  abstract close(): Promise<void>;

  /**
   * Whether the bus is ready, for a health check: false before `initialize()` finished, while the queue
   * it needs did not answer yet at start-up (it keeps trying) or its connection fails, and after `close()`.
   */
  abstract readiness(): EventBusReadiness;

  /**
   * Whether the bus is healthy, and if not why, check by check: ready, its queue's server reachable
   * (on Redis with `maxmemory-policy noeviction`), this process's worker consuming (not stuck), the
   * outbox's oldest event and the ordered handlers' lag under their thresholds. Every probe is bounded
   * by `timeoutMs`; never rejects but for thresholds that are not positive integers.
   */
  abstract checkHealth(options?: EventBusHealthOptions): Promise<EventBusHealth>;
}
