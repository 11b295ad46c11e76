import type { LoggerService } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventBusConfigurationError, EventBusError } from '../../shared/errors.js';
import type { EventValidationIssue } from '../../shared/errors.js';
import type { EventStatus, NewDomainEvent, StoredEvent } from '../../events/domain-event.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, prepareEvent, prepareEvents } from '../../events/event-validator.js';
import type { ValidatedEvent } from '../../events/event-validator.js';
import { isUuid, normalizeUuid } from '../../events/uuid.js';
import { deduplicateBatch } from '../batch-deduplication.js';
import { checkBatchSize, checkFilter, readFilter, throwIfInvalid } from '../event-filter.validation.js';
import type { CheckedFilter } from '../event-filter.validation.js';
import { ValidatingEventStore, type WorkflowVersion } from '../validating-event-store.js';
import type { CheckedPrune } from '../prune-options.validation.js';
import type { PruneBatchResult, PruneCursor } from '../prune-loop.js';
import type { AppendedEvent, EventStreamFilter, EventWriteOptions } from '../event-store.js';
import type { DeliveryLedger, DeliveryLedgerOptions, DeliveryLedgerSource } from '../../core/ports/delivery-ledger.js';
import { isStoredIdViolation, type EventStoreRepository } from './event-store.repository.js';
import { expectedStream } from '../expected-version.js';
import { appendAtVersion } from './append-at-version.js';
import { findOriginals } from './find-originals.js';
import { retryLostVersionRaces } from './version-races.js';
import { DEFAULT_CATCH_UP_TIMEOUT_MS, readGapSafeStream } from './gap-safe-stream.js';
import { DEFAULT_STORE_TIMEOUT_MS } from './store-availability.js';
import { TypeOrmDeliveryLedger } from './typeorm-delivery-ledger.js';

export interface PersistentEventStoreOptions {
  /** Largest accepted payload (and metadata), as serialized JSON bytes. @default 1048576 (1 MiB) */
  maxPayloadBytes?: number;
  /**
   * How long one store call (a write, a query, a page of `stream()`) waits for PostgreSQL before it
   * fails with `StoreUnavailableError`, in ms. A refused or dropped connection fails at once. @default 5000
   */
  storeTimeoutMs?: number;
  /** Receives the warning of a `stream()` that stopped waiting for events hidden behind an old transaction. */
  logger?: LoggerService;
}

/**
 * The `EventStore` on PostgreSQL through TypeORM: validates, writes idempotently by id, and reads
 * in sequence order (gap-safe whenever the reader pages; `stream()` in the commit-safe order of
 * schema/gap-safe-visibility.ts). The SQL is in `EventStoreRepository`.
 *
 * It also offers the bus the delivery ledger of its database (`deliveryLedger()`): job ids, statuses,
 * per-handler delivery records and the outbox live beside the events, so the bus needs no store of
 * its own.
 */
export class PersistentEventStore extends ValidatingEventStore implements DeliveryLedgerSource {
  readonly repository: EventStoreRepository;
  /** The payload limit every append validates with (`PersistentEventStoreOptions.maxPayloadBytes`). */
  override readonly maxPayloadBytes: number;
  private readonly logger: LoggerService | undefined;

  constructor(repository: EventStoreRepository, options: PersistentEventStoreOptions = {}) {
    super();
    const { maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES, storeTimeoutMs = DEFAULT_STORE_TIMEOUT_MS } = options;
    for (const [option, value] of Object.entries({ maxPayloadBytes, storeTimeoutMs })) {
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new EventBusConfigurationError(option, `must be a positive integer, got ${String(value)}`);
      }
    }
    this.repository = repository.withTimeout(storeTimeoutMs);
    this.maxPayloadBytes = maxPayloadBytes;
    this.logger = options.logger;
  }

  /**
   * The delivery records, statuses and outbox of the store's database, as the bus's transport uses
   * them; statements a caller waits for are bounded by `storeTimeoutMs`.
   */
  deliveryLedger(options: DeliveryLedgerOptions): DeliveryLedger {
    return new TypeOrmDeliveryLedger(
      this.repository.dataSource,
      options.storeTimeoutMs,
      options.handlerTransactionIdleMs,
    );
  }

  async save<P = unknown>(event: NewDomainEvent<P>, options?: EventWriteOptions): Promise<StoredEvent<P>> {
    // Validated alone, so an error does not speak of a batch.
    const [appended] = await this.write([prepareEvent(event, { maxPayloadBytes: this.maxPayloadBytes })], options);
    return appended.event;
  }

  async append<P = unknown>(events: NewDomainEvent<P>[], options?: EventWriteOptions): Promise<AppendedEvent<P>[]> {
    return this.write(prepareEvents(events, { maxPayloadBytes: this.maxPayloadBytes }), options);
  }

  private async write<P>(prepared: ValidatedEvent<P>[], options?: EventWriteOptions): Promise<AppendedEvent<P>[]> {
    if (options?.expectedVersion !== undefined) {
      const stream = expectedStream(prepared, options.expectedVersion);
      if (!stream) return [];
      return appendAtVersion(this.repository, prepared, stream, options.expectedVersion, options.manager);
    }
    if (prepared.length === 0) return [];
    return retryLostVersionRaces(this.repository, options?.manager, () => this.writeOnce(prepared, options?.manager));
  }

  /** One try of an append: versions numbered inside the INSERT; a lost version race rejects it as a whole. */
  private async writeOnce<P>(
    prepared: ValidatedEvent<P>[],
    callerManager: EntityManager | undefined,
  ): Promise<AppendedEvent<P>[]> {
    const { unique, firstOccurrence } = deduplicateBatch(prepared);

    if (unique.length > 1 && !callerManager) {
      const appended = await this.insertAllNew(prepared, unique, firstOccurrence);
      if (appended) return appended;
    }
    // A single new event outside a caller's transaction needs none of its own: the one INSERT is
    // atomic, and on a conflict it wrote nothing there is to undo. This saves two round trips per publish.
    const atomic = unique.length === 1 && !callerManager;
    const run = <T>(work: (manager: EntityManager | undefined) => Promise<T>): Promise<T> =>
      atomic ? work(undefined) : this.repository.transaction(callerManager, work);

    return run(async (manager) => {
      const inserted = new Map((await this.repository.insert(unique, manager)).map((event) => [event.id, event]));
      const { originals, unseen } = await findOriginals(this.repository, unique, inserted, manager);
      if (unseen.length > 0) {
        // Only possible under REPEATABLE READ or stricter: the original committed after this transaction's snapshot.
        throw new EventBusError(
          `Event ${unseen[0].event.id} was stored concurrently by a transaction this one cannot see; retry the write`,
        );
      }
      return prepared.map(({ event }, index) => {
        const stored = inserted.get(event.id) ?? originals.get(event.id);
        return {
          event: stored as StoredEvent<P>,
          inserted: inserted.has(event.id) && firstOccurrence[index],
        };
      });
    });
  }

  /**
   * The common case of a batch, in one round trip instead of three (BEGIN, INSERT, COMMIT): one
   * INSERT that fails as a whole if any of its ids is stored already, so it is all-or-nothing by
   * itself. Resolves `undefined` when it failed that way; the batch then takes the transactional
   * path, which compares the stored originals (an idempotent re-publish costs a refused INSERT).
   */
  private async insertAllNew<P>(
    prepared: ValidatedEvent<P>[],
    unique: ValidatedEvent<P>[],
    firstOccurrence: boolean[],
  ): Promise<AppendedEvent<P>[] | undefined> {
    let inserted: StoredEvent[];
    try {
      inserted = await this.repository.insert(unique, undefined, { existing: 'reject' });
    } catch (error) {
      if (isStoredIdViolation(error)) return undefined;
      throw error;
    }
    const byId = new Map(inserted.map((event) => [event.id, event]));
    return prepared.map(({ event }, index) => ({
      event: byId.get(event.id) as StoredEvent<P>,
      inserted: firstOccurrence[index],
    }));
  }

  /** An unknown id, and a string that is not a UUID (which no event can have), both resolve `null`. */
  async findById<P = unknown>(id: string): Promise<StoredEvent<P> | null> {
    if (!isUuid(id)) return null;
    return (await this.repository.findById(normalizeUuid(id))) as StoredEvent<P> | null;
  }

  /**
   * Validates at once (so a bad filter throws here, not at the first `next()`), then reads page
   * by page in `(transaction_id, sequence_number)` order below the horizon, one page held at a
   * time, until it has every event committed before the call (see gap-safe-stream.ts).
   */
  stream<P = unknown>(filter?: EventStreamFilter): AsyncIterable<StoredEvent<P>> {
    const issues: EventValidationIssue[] = [];
    const checked = checkFilter(filter, issues);
    const batchSize = checkBatchSize(filter, issues);
    const catchUpTimeoutMs = checkCatchUpTimeout(filter, issues);
    throwIfInvalid(issues);
    return readGapSafeStream(this.repository, checked, {
      batchSize,
      catchUpTimeoutMs,
      logger: this.logger,
    }) as AsyncIterable<StoredEvent<P>>;
  }

  protected async findWorkflowVersions(workflowId: string, tenantId: string | undefined): Promise<WorkflowVersion[]> {
    if (tenantId === undefined) return this.repository.workflowVersionsInAnyTenant(workflowId);
    const stream = { tenantId, workflowId };
    const version = await this.repository.workflowVersion(stream);
    return version === 0 ? [] : [{ ...stream, version }];
  }

  protected pruneBatch(prune: CheckedPrune, after: PruneCursor | undefined): Promise<PruneBatchResult> {
    return this.repository.pruneBatch(prune, after);
  }

  protected async writeStatus(id: string, status: EventStatus, jobId: string | undefined): Promise<void> {
    await this.repository.updateStatus(id, status, jobId);
  }

  /**
   * Paging readers (a limit or a position) get one gap-safe page in sequence order, without waiting:
   * it stops before the first event an older transaction still hides, and a later page brings it
   * (what a sequence cursor cannot cover: gap-safe-visibility.ts). A plain read sees every committed event.
   */
  protected async find<P>(filter: CheckedFilter): Promise<StoredEvent<P>[]> {
    const gapSafe = filter.afterSequence !== undefined || filter.limit !== undefined;
    return (await this.repository.find(filter, gapSafe)) as StoredEvent<P>[];
  }

  lastSequence(): Promise<number> {
    return this.repository.maxSequenceNumber();
  }

  protected countMatching(filter: CheckedFilter): Promise<number> {
    return this.repository.count(filter);
  }
}

/** Milliseconds, 0 (never wait) to `Infinity` (wait as long as it takes). */
function checkCatchUpTimeout(filter: EventStreamFilter | undefined, issues: EventValidationIssue[]): number {
  const value: unknown = readFilter('catchUpTimeoutMs', () => filter?.catchUpTimeoutMs);
  if (value === undefined) return DEFAULT_CATCH_UP_TIMEOUT_MS;
  if (typeof value === 'number' && value >= 0) return value;
  issues.push({
    field: 'catchUpTimeoutMs',
    message: `must be a non-negative number of milliseconds, got ${typeof value === 'number' ? value : typeof value}`,
  });
  return DEFAULT_CATCH_UP_TIMEOUT_MS;
}
