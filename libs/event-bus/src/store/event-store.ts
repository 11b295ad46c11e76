import type { EntityManager } from 'typeorm';
import type { EventStatus, NewDomainEvent, StoredEvent } from '../events/domain-event.js';

/** Paging and tenant scoping accepted by every query method. */
export interface EventQueryOptions {
  /** Only events of this tenant (a UUID). `undefined` means every tenant; anything else non-UUID is rejected. */
  tenantId?: string;
  /**
   * Only events with a sequence number greater than this one (gap-safe keyset paging; `stream()`
   * starts after it and then keeps its own position).
   */
  afterSequence?: number;
  /** At most this many events. No default limit on the `get…` methods. */
  limit?: number;
}

/** The general filter of `query()` and `stream()`. */
export interface EventFilter extends EventQueryOptions {
  type?: string | string[];
  workflowId?: string;
  /** `timestamp >= from` (inclusive). */
  from?: Date;
  /** `timestamp < to` (exclusive). */
  to?: Date;
  status?: EventStatus | EventStatus[];
}

/** The filter of `count()`: the filter of `query()` without paging's `limit`. */
export type EventCountFilter = Omit<EventFilter, 'limit'>;

export interface EventStreamFilter extends EventFilter {
  /** Rows read per round trip; one batch is held in memory at a time. Default 1000. */
  batchSize?: number;
  /**
   * How long the stream waits, with no progress, for events that committed before the call but are
   * still hidden behind an older running transaction (gap-safe reading never passes one). When it
   * runs out, the stream ends at the last event it could safely read, with a warning to the store's
   * logger; nothing is skipped. `0` never waits, `Infinity` waits as long as it takes. Default 30000.
   */
  catchUpTimeoutMs?: number;
}

/** The statuses of a finished event, the only ones `prune` deletes. */
export type FinishedEventStatus = Extract<EventStatus, 'processed' | 'failed'>;

/** What `EventStore.prune` (and `EventBus.pruneEvents`) deletes, and how. */
export interface PruneOptions {
  /** Events whose `timestamp` is before this (exclusive) are deleted, as `replayEvents` reads `timestamp`. Required. */
  before: Date;
  /**
   * Which finished events: `'processed'` (the default), or `'failed'` too. An event with a handler
   * delivery still retrying is never deleted; one with a failed delivery only when `'failed'` is listed.
   * `pending` and `processing` events are never deleted (asking for them is an `EventValidationError`).
   */
  status?: FinishedEventStatus | FinishedEventStatus[];
  /** Events examined (and so at most deleted) per transaction. @default 1000 */
  batchSize?: number;
  /** Stops between batches; `prune` then resolves with the number deleted so far. */
  signal?: AbortSignal;
  /**
   * Receives each batch's events (in sequence order) before they are deleted, inside the batch's transaction: when it
   * rejects, that batch is not deleted and `prune` rejects. Keep it quick (it counts against the
   * store's deadline, and it holds the batch's transaction open).
   */
  archive?: (events: StoredEvent[]) => Promise<void>;
}

/** Where a write happens: pass the caller's `EntityManager` to join its transaction. */
export interface EventWriteOptions {
  manager?: EntityManager;
  /**
   * Optimistic concurrency: the workflow's last version the caller saw (`0`: no events yet). The
   * events (all of one workflow) are appended only if the stream is still at that version, else the
   * write rejects with `EventConcurrencyError` and stores nothing. Events all stored already (an
   * idempotent re-publish) resolve to the originals whatever the stream's version.
   */
  expectedVersion?: number;
}

/** Scoping of `getWorkflowVersion`. */
export interface WorkflowVersionOptions {
  /** The workflow's tenant; required when the same workflow id has events in more than one tenant. */
  tenantId?: string;
}

/** One event of an `append`: the stored row, and whether this call inserted it (false: an identical duplicate). */
export interface AppendedEvent<P = unknown> {
  event: StoredEvent<P>;
  inserted: boolean;
}

/**
 * The persistent store of domain events; the abstract class is the injection token.
 * Every read returns events in `sequenceNumber` order, except `stream()` (see there).
 */
export abstract class EventStore {
  /**
   * The largest payload (serialized JSON bytes) the store's own validation accepts, when it validates
   * on append. A bus given another `maxPayloadBytes` checks events against its own limit first.
   */
  readonly maxPayloadBytes?: number;

  /** Validates and stores one event (idempotent by id); resolves to the stored event. */
  abstract save<P = unknown>(event: NewDomainEvent<P>, options?: EventWriteOptions): Promise<StoredEvent<P>>;

  /** Validates and stores a batch all-or-nothing, with one multi-row INSERT; results in input order. */
  abstract saveAll<P = unknown>(events: NewDomainEvent<P>[], options?: EventWriteOptions): Promise<StoredEvent<P>[]>;

  /** As `saveAll`, and tells which events this call inserted (the bus enqueues only those). */
  abstract append<P = unknown>(events: NewDomainEvent<P>[], options?: EventWriteOptions): Promise<AppendedEvent<P>[]>;

  /** The event with this id, or `null`. */
  abstract findById<P = unknown>(id: string): Promise<StoredEvent<P> | null>;

  abstract getEventsByType<P = unknown>(type: string, options?: EventQueryOptions): Promise<StoredEvent<P>[]>;

  abstract getEventsByTenant<P = unknown>(tenantId: string, options?: EventQueryOptions): Promise<StoredEvent<P>[]>;

  /** Events whose `timestamp` is in `[from, to)`. */
  abstract getEventsByTimeRange<P = unknown>(
    from: Date,
    to: Date,
    options?: EventQueryOptions,
  ): Promise<StoredEvent<P>[]>;

  /**
   * The workflow's last version (the number of its events), 0 when it has none: what to pass as
   * `expectedVersion`. Without `tenantId`, a workflow id with events in several tenants is an
   * `EventValidationError`.
   */
  abstract getWorkflowVersion(workflowId: string, options?: WorkflowVersionOptions): Promise<number>;

  /** A workflow's events in version order (which is also their `sequenceNumber` order). */
  abstract getEventsByWorkflowId<P = unknown>(
    workflowId: string,
    options?: EventQueryOptions,
  ): Promise<StoredEvent<P>[]>;

  /**
   * One read. With `afterSequence` or `limit` it is a gap-safe page: it stops before the first event
   * hidden behind a transaction still running, and never waits for it. A page cannot account for an
   * event whose transaction has not committed yet, which may hold a lower sequence number than one
   * returned; use `stream()` for a complete read (and for everything committed before the call).
   */
  abstract query<P = unknown>(filter?: EventFilter): Promise<StoredEvent<P>[]>;

  /**
   * Every matching event, read in pages by position: memory stays flat however many there are. It
   * includes every event committed before the call (waiting, within `catchUpTimeoutMs`, for those
   * an older running transaction still hides) and never skips one that commits late; later ones
   * may or may not be included. Events come in the order they became safe to read: `sequenceNumber`
   * order within a transaction and between transactions that did not overlap; events of concurrent
   * transactions may come out of `sequenceNumber` order.
   */
  abstract stream<P = unknown>(filter?: EventStreamFilter): AsyncIterable<StoredEvent<P>>;

  /**
   * Deletes old finished events (and their delivery records) in short batches, never an unfinished
   * one and never the newest event of a workflow (see docs/retention.md); resolves to how many it deleted.
   */
  abstract prune(options: PruneOptions): Promise<number>;

  /**
   * How many committed events match the filter (`afterSequence` included). A plain count, not a
   * gap-safe position: for a total (a progress bar, a report), not for paging.
   */
  abstract count(filter?: EventCountFilter): Promise<number>;

  /**
   * The highest sequence number committed so far (0 for an empty store): where a reader that wants
   * only the events stored from now on starts (`query({ afterSequence })`).
   */
  abstract lastSequence(): Promise<number>;

  /** Sets the status (and, when given, the BullMQ job id) of one event. */
  abstract updateStatus(id: string, status: EventStatus, jobId?: string): Promise<void>;
}
