import { EventBusConfigurationError, EventBusError, EventConflictError } from '../shared/errors.js';
import type { EventValidationIssue } from '../shared/errors.js';
import type { EventStatus, NewDomainEvent, StoredEvent } from '../events/domain-event.js';
import { EVENT_STATUSES } from '../events/domain-event.js';
import { differingFields } from '../events/event-equality.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, prepareEvent, prepareEvents } from '../events/event-validator.js';
import type { ValidatedEvent } from '../events/event-validator.js';
import { isUuid, normalizeUuid } from '../events/uuid.js';
import { deduplicateBatch } from '../store/batch-deduplication.js';
import {
  checkBatchSize,
  checkDate,
  checkEventType,
  checkFilter,
  checkQueryOptions,
  checkUuid,
  checkWorkflowId,
  throwIfInvalid,
} from '../store/event-filter.validation.js';
import type { CheckedFilter } from '../store/event-filter.validation.js';
import { EventStore } from '../store/event-store.js';
import type {
  AppendedEvent,
  EventFilter,
  EventQueryOptions,
  EventStreamFilter,
  EventWriteOptions,
} from '../store/event-store.js';
import { checkCatchUpTimeout, matchesFilter } from './in-memory-event-filter.js';

export interface InMemoryEventStoreOptions {
  /** Largest accepted payload (and metadata), as serialized JSON bytes. @default 1048576 (1 MiB) */
  maxPayloadBytes?: number;
}

/** One stored event as the table row holds it: the JSON as written, the job id in a column of its own. */
interface Row {
  id: string;
  type: string;
  tenantId: string;
  timestamp: string;
  payloadJson: string;
  metadataJson: string | null;
  sequenceNumber: number;
  status: EventStatus;
  createdAt: string;
  jobId: string | null;
}

/**
 * The `EventStore` in memory, for unit tests: the validation, idempotency, sequence numbers, filters
 * and their checks of `PersistentEventStore`, without PostgreSQL (the same contract suite runs
 * against both). Everything written is visible at once, so reads never wait and `stream()` comes in
 * `sequenceNumber` order. Events are kept as JSON and every read returns fresh copies, so a caller
 * that changes what it got back (or what it passed in) changes nothing stored, as with a database.
 * There is no transaction to join: a `manager` is refused.
 */
export class InMemoryEventStore extends EventStore {
  /** The limit this store validates payloads with (see `EventStore.maxPayloadBytes`). */
  override readonly maxPayloadBytes: number;
  private readonly rows: Row[] = [];
  private readonly byId = new Map<string, Row>();
  private lastSequence = 0;

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
    const [appended] = this.write([prepareEvent(event, { maxPayloadBytes: this.maxPayloadBytes })]);
    return appended.event;
  }

  async saveAll<P = unknown>(events: NewDomainEvent<P>[], options?: EventWriteOptions): Promise<StoredEvent<P>[]> {
    const appended = await this.append(events, options);
    return appended.map(({ event }) => event);
  }

  async append<P = unknown>(events: NewDomainEvent<P>[], options?: EventWriteOptions): Promise<AppendedEvent<P>[]> {
    refuseManager(options);
    return this.write(prepareEvents(events, { maxPayloadBytes: this.maxPayloadBytes }));
  }

  async findById<P = unknown>(id: string): Promise<StoredEvent<P> | null> {
    return this.peek<P>(id) ?? null;
  }

  async getEventsByType<P = unknown>(type: string, options?: EventQueryOptions): Promise<StoredEvent<P>[]> {
    const issues: EventValidationIssue[] = [];
    checkEventType('type', type, issues);
    const filter = checkQueryOptions(options, issues);
    throwIfInvalid(issues);
    return this.find({ ...filter, types: [type] });
  }

  async getEventsByTenant<P = unknown>(tenantId: string, options?: EventQueryOptions): Promise<StoredEvent<P>[]> {
    const issues: EventValidationIssue[] = [];
    const tenant = checkUuid('tenantId', tenantId, issues);
    const filter = checkQueryOptions(options, issues);
    throwIfInvalid(issues);
    if (filter.tenantId !== undefined && filter.tenantId !== tenant) return [];
    return this.find({ ...filter, tenantId: tenant });
  }

  async getEventsByTimeRange<P = unknown>(
    from: Date,
    to: Date,
    options?: EventQueryOptions,
  ): Promise<StoredEvent<P>[]> {
    const issues: EventValidationIssue[] = [];
    const start = checkDate('from', from, issues);
    const end = checkDate('to', to, issues);
    if (start && end && end.getTime() < start.getTime()) {
      issues.push({
        field: 'to',
        message: `must not be before from (${start.toISOString()}), got ${end.toISOString()}`,
      });
    }
    const filter = checkQueryOptions(options, issues);
    throwIfInvalid(issues);
    return this.find({ ...filter, from: start, to: end });
  }

  async getEventsByWorkflowId<P = unknown>(workflowId: string, options?: EventQueryOptions): Promise<StoredEvent<P>[]> {
    const issues: EventValidationIssue[] = [];
    checkWorkflowId('workflowId', workflowId, issues);
    const filter = checkQueryOptions(options, issues);
    throwIfInvalid(issues);
    return this.find({ ...filter, workflowId });
  }

  async query<P = unknown>(filter?: EventFilter): Promise<StoredEvent<P>[]> {
    const issues: EventValidationIssue[] = [];
    const checked = checkFilter(filter, issues);
    throwIfInvalid(issues);
    return this.find(checked);
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

  async updateStatus(id: string, status: EventStatus, jobId?: string): Promise<void> {
    const issues: EventValidationIssue[] = [];
    const eventId = checkUuid('id', id, issues);
    if (!EVENT_STATUSES.includes(status)) {
      issues.push({ field: 'status', message: `must be one of ${EVENT_STATUSES.join(', ')}` });
    }
    if (jobId !== undefined && (typeof jobId !== 'string' || jobId === '')) {
      issues.push({ field: 'jobId', message: 'must be a non-empty string' });
    }
    throwIfInvalid(issues);
    const row = this.byId.get(eventId!);
    if (!row) throw new EventBusError(`Cannot update the status of event ${eventId}: no such event is stored`);
    row.status = status;
    if (jobId !== undefined) row.jobId = jobId;
  }

  /** The stored event with this id, read at once (for the test harness, which answers synchronously). */
  peek<P = unknown>(id: string): StoredEvent<P> | undefined {
    if (!isUuid(id)) return undefined;
    const row = this.byId.get(normalizeUuid(id));
    return row && toStoredEvent<P>(row);
  }

  /** Every stored event, in sequence order, read at once. */
  all(): StoredEvent[] {
    return this.rows.map((row) => toStoredEvent(row));
  }

  /** Forgets every event. Sequence numbers go on increasing, as a PostgreSQL sequence does after a TRUNCATE. */
  clear(): void {
    this.rows.length = 0;
    this.byId.clear();
  }

  /**
   * All-or-nothing: every conflict is found before anything is written. Identical duplicates (in the
   * batch or with a stored event) resolve to the stored event and are not `inserted`.
   */
  private write<P>(prepared: ValidatedEvent<P>[]): AppendedEvent<P>[] {
    if (prepared.length === 0) return [];
    const { unique, firstOccurrence } = deduplicateBatch(prepared);
    for (const candidate of unique) {
      const stored = this.byId.get(candidate.event.id);
      if (!stored) continue;
      const fields = differingFields(toStoredEvent(stored), candidate);
      if (fields.length > 0) throw new EventConflictError(candidate.event.id, fields);
    }
    const inserted = new Set<string>();
    for (const candidate of unique) {
      if (this.byId.has(candidate.event.id)) continue;
      this.insert(candidate);
      inserted.add(candidate.event.id);
    }
    return prepared.map(({ event }, index) => ({
      event: this.peek<P>(event.id)!,
      inserted: inserted.has(event.id) && firstOccurrence[index],
    }));
  }

  private insert({ event, payloadJson, metadataJson }: ValidatedEvent): void {
    this.lastSequence += 1;
    const row: Row = {
      id: event.id,
      type: event.type,
      tenantId: event.tenantId,
      timestamp: event.timestamp,
      payloadJson,
      metadataJson,
      sequenceNumber: this.lastSequence,
      status: 'pending',
      createdAt: new Date().toISOString(),
      jobId: null,
    };
    this.rows.push(row);
    this.byId.set(row.id, row);
  }

  private find<P>(filter: CheckedFilter): StoredEvent<P>[] {
    const found: StoredEvent<P>[] = [];
    for (const row of this.rows) {
      if (filter.limit !== undefined && found.length >= filter.limit) break;
      const event = toStoredEvent<P>(row);
      if (matchesFilter(event, filter)) found.push(event);
    }
    return found;
  }

  /** Rows are kept in sequence order; events stored while the stream runs are not waited for. */
  private async *read<P>(filter: CheckedFilter): AsyncGenerator<StoredEvent<P>> {
    const last = this.lastSequence;
    const after = filter.afterSequence ?? 0;
    let remaining = filter.limit ?? Number.POSITIVE_INFINITY;
    // Rows are only ever appended (or all cleared), so an index stays valid between yields.
    for (let index = 0; index < this.rows.length && remaining > 0; index += 1) {
      const row = this.rows[index];
      if (row.sequenceNumber > last) return;
      if (row.sequenceNumber <= after) continue;
      const event = toStoredEvent<P>(row);
      if (!matchesFilter(event, filter)) continue;
      remaining -= 1;
      yield event;
    }
  }
}

/** A row as the API returns it: fresh objects, and the job id shown as `metadata.jobId` (as the TypeORM mapper does). */
function toStoredEvent<P>(row: Row): StoredEvent<P> {
  const event: StoredEvent<P> = {
    id: row.id,
    type: row.type,
    timestamp: row.timestamp,
    tenantId: row.tenantId,
    payload: JSON.parse(row.payloadJson) as P,
    sequenceNumber: row.sequenceNumber,
    status: row.status,
    createdAt: row.createdAt,
  };
  if (row.metadataJson !== null || row.jobId !== null) {
    event.metadata = {
      ...(row.metadataJson === null ? {} : (JSON.parse(row.metadataJson) as Record<string, unknown>)),
      ...(row.jobId === null ? {} : { jobId: row.jobId }),
    };
  }
  return event;
}

/** There is no database, so no transaction to join: silently writing outside it would hide a rollback. */
function refuseManager(options: EventWriteOptions | undefined): void {
  if (options?.manager === undefined) return;
  throw new EventBusError(
    "InMemoryEventStore has no database, so it cannot join the caller's transaction (the `manager` option). " +
      'Test code that publishes inside a TypeORM transaction against PostgreSQL (PersistentEventStore).',
  );
}
