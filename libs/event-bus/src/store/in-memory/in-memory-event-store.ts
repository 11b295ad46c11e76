import {
  EventBusConfigurationError,
  EventBusError,
  EventConcurrencyError,
  EventConflictError,
} from '../../shared/errors.js';
import type { EventValidationIssue } from '../../shared/errors.js';
import type { EventStatus, NewDomainEvent, StoredEvent } from '../../events/domain-event.js';
import { differingFields } from '../../events/event-equality.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, prepareEvent, prepareEvents } from '../../events/event-validator.js';
import type { ValidatedEvent } from '../../events/event-validator.js';
import { isUuid, normalizeUuid } from '../../events/uuid.js';
import { deduplicateBatch } from '../batch-deduplication.js';
import { checkBatchSize, checkFilter, throwIfInvalid } from '../event-filter.validation.js';
import type { CheckedFilter } from '../event-filter.validation.js';
import { ValidatingEventStore, type WorkflowVersion } from '../validating-event-store.js';
import { expectedStream, type WorkflowStream } from '../expected-version.js';
import type { AppendedEvent, EventStreamFilter, EventWriteOptions } from '../event-store.js';
import type { DeliveryLedgerSource } from '../../core/ports/delivery-ledger.js';
import { checkCatchUpTimeout, matchesFilter } from './in-memory-event-filter.js';
import { InMemoryOrderedLog } from './in-memory-ordered-log.js';
import { InMemoryDeliveryLedger } from './in-memory-delivery-ledger.js';
import { noTransactionError } from './no-transaction.js';
import { InMemoryTables, toStoredEvent, type EventChangeListener, type EventRow } from './in-memory-tables.js';
import { pruneInMemoryBatch } from './in-memory-pruning.js';
import type { CheckedPrune } from '../prune-options.validation.js';
import type { PruneBatchResult, PruneCursor } from '../prune-loop.js';

export interface InMemoryEventStoreOptions {
  /** Largest accepted payload (and metadata), as serialized JSON bytes. @default 1048576 (1 MiB) */
  maxPayloadBytes?: number;
}

/**
 * The `EventStore` in memory, for unit tests: the validation, idempotency, sequence numbers, filters
 * and their checks of `PersistentEventStore`, without PostgreSQL (the same contract suite runs
 * against both). Like `PersistentEventStore` it offers the bus its delivery ledger (statuses, job
 * ids, handler records), on the same in-memory tables. Everything written is visible at once, so
 * reads never wait and `stream()` comes in `sequenceNumber` order. Events are kept as JSON and every
 * read returns fresh copies, so a caller that changes what it got back (or what it passed in)
 * changes nothing stored, as with a database. There is no transaction to join: a `manager` is refused.
 */
export class InMemoryEventStore extends ValidatingEventStore implements DeliveryLedgerSource {
  /** The limit this store validates payloads with (see `EventStore.maxPayloadBytes`). */
  override readonly maxPayloadBytes: number;
  private readonly tables = new InMemoryTables();
  private readonly orderedLog = new InMemoryOrderedLog(this.tables);

  constructor(options: InMemoryEventStoreOptions = {}) {
    super();
    const { maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES } = options;
    if (!Number.isSafeInteger(maxPayloadBytes) || maxPayloadBytes <= 0) {
      throw new EventBusConfigurationError(
        'maxPayloadBytes',
        `must be a positive integer, got ${String(maxPayloadBytes)}`,
      );
    }
    this.maxPayloadBytes = maxPayloadBytes;
  }

  async save<P = unknown>(event: NewDomainEvent<P>, options?: EventWriteOptions): Promise<StoredEvent<P>> {
    refuseManager(options);
    // Validated alone, so an error does not speak of a batch.
    const [appended] = this.write([prepareEvent(event, { maxPayloadBytes: this.maxPayloadBytes })], options);
    return appended.event;
  }

  async append<P = unknown>(events: NewDomainEvent<P>[], options?: EventWriteOptions): Promise<AppendedEvent<P>[]> {
    refuseManager(options);
    return this.write(prepareEvents(events, { maxPayloadBytes: this.maxPayloadBytes }), options);
  }

  async findById<P = unknown>(id: string): Promise<StoredEvent<P> | null> {
    return this.peek<P>(id) ?? null;
  }

  /** Validates at once, like the TypeORM store; yields the events stored before the first `next()`. */
  stream<P = unknown>(filter?: EventStreamFilter): AsyncIterable<StoredEvent<P>> {
    const issues: EventValidationIssue[] = [];
    const checked = checkFilter(filter, issues);
    checkBatchSize(filter, issues);
    checkCatchUpTimeout(filter, issues);
    throwIfInvalid(issues);
    return this.read<P>(checked);
  }

  protected async findWorkflowVersions(workflowId: string, tenantId: string | undefined): Promise<WorkflowVersion[]> {
    const tenants = tenantId === undefined ? this.tables.tenantsOfWorkflow(workflowId) : [tenantId];
    return tenants
      .map((tenant) => ({ tenantId: tenant, workflowId, version: this.tables.workflowVersion(tenant, workflowId) }))
      .filter((stream) => stream.version > 0);
  }

  protected pruneBatch(prune: CheckedPrune, after: PruneCursor | undefined): Promise<PruneBatchResult> {
    return pruneInMemoryBatch(this.tables, prune, after);
  }

  protected async writeStatus(id: string, status: EventStatus, jobId: string | undefined): Promise<void> {
    const row = this.tables.event(id);
    if (!row) throw new EventBusError(`Cannot update the status of event ${id}: no such event is stored`);
    this.tables.updateEvent(row, { status, jobId });
  }

  /**
   * The delivery ledger on this store's tables: the bus writes statuses, job ids and handler
   * records here, as it writes them to PostgreSQL through `PersistentEventStore`'s. No deadline
   * applies (nothing here waits), so the options are not needed.
   */
  deliveryLedger(): InMemoryDeliveryLedger {
    return new InMemoryDeliveryLedger(this.tables, this.orderedLog);
  }

  /** Listens to every change of a stored event (stored, new status, job id); returns the function that stops listening. */
  onChange(listener: EventChangeListener): () => void {
    return this.tables.onChange(listener);
  }

  /** The stored event with this id, read at once (for the test harness, which answers synchronously). */
  peek<P = unknown>(id: string): StoredEvent<P> | undefined {
    if (!isUuid(id)) return undefined;
    const row = this.tables.event(normalizeUuid(id));
    return row && toStoredEvent<P>(row);
  }

  /** Every stored event, in sequence order, read at once. */
  all(): StoredEvent[] {
    return this.tables.events.map((row) => toStoredEvent(row));
  }

  /**
   * Forgets every event and its delivery records. Sequence numbers go on increasing, as a PostgreSQL
   * sequence does after a TRUNCATE.
   */
  clear(): void {
    this.tables.clear();
  }

  /**
   * All-or-nothing: every conflict is found before anything is written. Identical duplicates (in the
   * batch or with a stored event) resolve to the stored event and are not `inserted`. Versions are
   * numbered per stream by `insertEvent`; with `expectedVersion` the new events are written only if
   * their stream is at that version (events all stored already resolve to the originals regardless).
   */
  private write<P>(prepared: ValidatedEvent<P>[], options: EventWriteOptions | undefined): AppendedEvent<P>[] {
    const expected = options?.expectedVersion;
    const stream = expected === undefined ? undefined : expectedStream(prepared, expected);
    if (prepared.length === 0) return [];
    const { unique, firstOccurrence } = deduplicateBatch(prepared);
    let fresh = 0;
    for (const candidate of unique) {
      const stored = this.tables.event(candidate.event.id);
      if (!stored) {
        fresh += 1;
        continue;
      }
      const fields = differingFields(toStoredEvent(stored), candidate);
      if (fields.length > 0) throw new EventConflictError(candidate.event.id, fields);
    }
    if (stream && fresh > 0) this.checkVersion(stream, expected!);
    const inserted = new Set<string>();
    for (const candidate of unique) {
      if (this.tables.event(candidate.event.id)) continue;
      this.tables.insertEvent(candidate);
      inserted.add(candidate.event.id);
    }
    for (const id of inserted) this.tables.changed(id);
    return prepared.map(({ event }, index) => ({
      event: this.peek<P>(event.id)!,
      inserted: inserted.has(event.id) && firstOccurrence[index],
    }));
  }

  private checkVersion(stream: WorkflowStream, expectedVersion: number): void {
    const actualVersion = this.tables.workflowVersion(stream.tenantId, stream.workflowId);
    if (actualVersion !== expectedVersion) {
      throw new EventConcurrencyError(stream.workflowId, stream.tenantId, expectedVersion, actualVersion);
    }
  }

  protected async find<P>(filter: CheckedFilter): Promise<StoredEvent<P>[]> {
    const found: StoredEvent<P>[] = [];
    for (const row of this.tables.events) {
      if (filter.limit !== undefined && found.length >= filter.limit) break;
      const event = toStoredEvent<P>(row);
      if (matchesFilter(event, filter)) found.push(event);
    }
    return found;
  }

  async lastSequence(): Promise<number> {
    return this.tables.lastSequence;
  }

  protected async countMatching(filter: CheckedFilter): Promise<number> {
    let count = 0;
    for (const row of this.tables.events) if (matchesFilter(toStoredEvent(row), filter)) count += 1;
    return count;
  }

  /** Rows are kept in sequence order; events stored while the stream runs are not waited for. */
  private async *read<P>(filter: CheckedFilter): AsyncGenerator<StoredEvent<P>> {
    const last = this.tables.lastSequence;
    let position = filter.afterSequence ?? 0;
    let remaining = filter.limit ?? Number.POSITIVE_INFINITY;
    // Rows may be pruned between yields, so the stream keeps a position, not an index: the next row
    // is the first one numbered after the last it looked at (rows stay in sequence order).
    for (
      let row = nextRow(this.tables.events, position);
      row && remaining > 0;
      row = nextRow(this.tables.events, position)
    ) {
      if (row.sequenceNumber > last) return;
      position = row.sequenceNumber;
      const event = toStoredEvent<P>(row);
      if (!matchesFilter(event, filter)) continue;
      remaining -= 1;
      yield event;
    }
  }
}

/** The first row numbered after `position`, by binary search over rows in sequence order. */
function nextRow(rows: readonly EventRow[], position: number): EventRow | undefined {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (rows[middle].sequenceNumber <= position) low = middle + 1;
    else high = middle;
  }
  return rows[low];
}

function refuseManager(options: EventWriteOptions | undefined): void {
  if (options?.manager !== undefined) throw noTransactionError();
}
