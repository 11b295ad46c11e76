import type { DataSource, EntityManager } from 'typeorm';
import { EventBusError } from '../../shared/errors.js';
import type { EventStatus, StoredEvent } from '../../events/domain-event.js';
import type { ValidatedEvent } from '../../events/event-validator.js';
import type { CheckedFilter } from '../event-filter.validation.js';
import {
  buildCommittedExists,
  buildEventSelect,
  buildFirstUnread,
  buildStreamPage,
  buildStreamStart,
  MAX_SEQUENCE_SQL,
} from './schema/event-query.sql.js';
import type { StreamPosition } from './schema/event-query.sql.js';
import { buildEventCount } from './schema/count-events.sql.js';
import { callStore, DEFAULT_STORE_TIMEOUT_MS } from './store-availability.js';
import { storedEventColumns, toStoredEvent } from './schema/stored-event.mapper.js';
import type { EventStoreRow } from './schema/stored-event.mapper.js';

/** Whether `error` is an INSERT refused because one of its ids is stored already. */
export function isStoredIdViolation(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } } | null)?.driverError;
  return driverError?.code === UNIQUE_VIOLATION && driverError.constraint === 'event_store_pkey';
}

/** PostgreSQL's SQLSTATE for a unique violation. */
const UNIQUE_VIOLATION = '23505';

/** One page of `stream()`, with the position of its last event and the horizon it was read below. */
export interface StreamPage {
  events: StoredEvent[];
  last: StreamPosition | undefined;
  horizon: bigint;
}

/** A row of the stream page: an event with its transaction id (xid8 arrives as text), or none on an empty page. */
type StreamPageRow = { horizon: string } & ((EventStoreRow & { transaction_id: string }) | { id: null });

export interface EventStoreRepositoryOptions {
  /** How long one call waits for PostgreSQL before failing with `StoreUnavailableError`, in ms. @default 5000 */
  timeoutMs?: number;
}

/**
 * The SQL of the event store, on the host app's TypeORM DataSource. It takes checked input only
 * (PersistentEventStore validates first); every value is a parameter. Every call is bounded and
 * reports an unreachable PostgreSQL as `StoreUnavailableError` (store-availability.ts).
 */
export class EventStoreRepository {
  readonly timeoutMs: number;

  constructor(
    readonly dataSource: DataSource,
    options: EventStoreRepositoryOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
  }

  /** The same repository with another deadline (the store applies its `storeTimeoutMs` this way). */
  withTimeout(timeoutMs: number): EventStoreRepository {
    return timeoutMs === this.timeoutMs ? this : new EventStoreRepository(this.dataSource, { timeoutMs });
  }

  /**
   * One multi-row INSERT of the whole batch; ids already stored are skipped (`ON CONFLICT DO
   * NOTHING`) and missing from the result, or, with `existing: 'reject'`, fail the whole statement
   * with a unique violation of `event_store_pkey` (see `isStoredIdViolation`). Rows come in as
   * parallel arrays through `unnest`, so the statement has seven parameters whatever the batch size
   * (a VALUES list would hit PostgreSQL's 65,535-parameter limit past ~9,000 events); `ORDER BY
   * position` hands out sequence numbers in input order.
   */
  async insert(
    events: readonly ValidatedEvent[],
    manager?: EntityManager,
    { existing = 'skip' }: { existing?: 'skip' | 'reject' } = {},
  ): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const rows = await this.run<EventStoreRow>(
      manager,
      `INSERT INTO event_store (id, event_type, tenant_id, payload, timestamp, workflow_id, metadata, status)
       SELECT id, event_type, tenant_id, payload, timestamp, workflow_id, metadata, 'pending'
       FROM unnest($1::uuid[], $2::varchar[], $3::uuid[], $4::jsonb[], $5::timestamptz[], $6::varchar[], $7::jsonb[])
         WITH ORDINALITY AS input (id, event_type, tenant_id, payload, timestamp, workflow_id, metadata, position)
       ORDER BY position
       ${existing === 'skip' ? 'ON CONFLICT (id) DO NOTHING' : ''}
       RETURNING ${storedEventColumns()}`,
      [
        events.map(({ event }) => event.id),
        events.map(({ event }) => event.type),
        events.map(({ event }) => event.tenantId),
        events.map(({ payloadJson }) => payloadJson),
        events.map(({ event }) => event.timestamp),
        events.map(({ event }) => event.metadata?.workflowId ?? null),
        events.map(({ metadataJson }) => metadataJson),
      ],
    );
    return rows.map((row) => toStoredEvent(row));
  }

  async findByIds(ids: readonly string[], manager?: EntityManager): Promise<StoredEvent[]> {
    if (ids.length === 0) return [];
    const rows = await this.run<EventStoreRow>(
      manager,
      `SELECT ${storedEventColumns()} FROM event_store WHERE id = ANY($1::uuid[]) ORDER BY sequence_number`,
      [ids],
    );
    return rows.map((row) => toStoredEvent(row));
  }

  async findById(id: string): Promise<StoredEvent | null> {
    const [event] = await this.findByIds([id]);
    return event ?? null;
  }

  /** Events matching a checked filter, in sequence order; `gapSafe` for one-shot paging readers. */
  async find(filter: CheckedFilter, gapSafe: boolean): Promise<StoredEvent[]> {
    const { sql, params } = buildEventSelect(filter, { gapSafe });
    const rows = await this.run<EventStoreRow>(undefined, sql, params);
    return rows.map((row) => toStoredEvent(row));
  }

  /** How many committed events match a checked filter (its `limit` ignored). */
  async count(filter: CheckedFilter): Promise<number> {
    const { sql, params } = buildEventCount(filter);
    const [{ count }] = await this.run<{ count: string }>(undefined, sql, params);
    return Number(count);
  }

  /** Up to `limit` events after `after` in `(transaction_id, sequence_number)` order, below the horizon. */
  async findStreamPage(filter: CheckedFilter, after: StreamPosition | undefined, limit: number): Promise<StreamPage> {
    const { sql, params } = buildStreamPage(filter, after, limit);
    const rows = await this.run<StreamPageRow>(undefined, sql, params);
    const events: StoredEvent[] = [];
    let last: StreamPosition | undefined;
    for (const row of rows) {
      if (row.id === null) continue;
      const event = toStoredEvent(row);
      events.push(event);
      last = { transactionId: BigInt(row.transaction_id), sequenceNumber: event.sequenceNumber };
    }
    return { events, last, horizon: BigInt(rows[0].horizon) };
  }

  /** Where a stream from `filter.afterSequence` starts (see `buildStreamStart`). */
  async streamStart(filter: CheckedFilter): Promise<StreamPosition> {
    const { sql, params } = buildStreamStart(filter);
    const [{ start }] = await this.run<{ start: string }>(undefined, sql, params);
    // Sequence numbers start at 1: the position before every row of that transaction.
    return { transactionId: BigInt(start), sequenceNumber: 0 };
  }

  /** The highest sequence number of the committed rows, 0 when there are none. */
  async maxSequenceNumber(): Promise<number> {
    const [{ max }] = await this.run<{ max: string | null }>(undefined, MAX_SEQUENCE_SQL, []);
    return max === null ? 0 : Number(max);
  }

  /**
   * Whether a committed row matching the filter, after the stream position `after`, lies in
   * (`filter.afterSequence`, `upToSequence`]; no horizon.
   */
  async hasCommitted(filter: CheckedFilter, upToSequence: number, after?: StreamPosition): Promise<boolean> {
    const { sql, params } = buildCommittedExists(filter, upToSequence, after);
    const [{ found }] = await this.run<{ found: boolean }>(undefined, sql, params);
    return found;
  }

  /** The lowest sequence number of the committed rows matching the filter after the stream position `after`. */
  async firstUnreadSequence(filter: CheckedFilter, after: StreamPosition | undefined): Promise<number | undefined> {
    const { sql, params } = buildFirstUnread(filter, after);
    const [{ min }] = await this.run<{ min: string | null }>(undefined, sql, params);
    return min === null ? undefined : Number(min);
  }

  /** Sets the status, and the job id when given (a missing one keeps the recorded id). */
  async updateStatus(id: string, status: EventStatus, jobId?: string): Promise<void> {
    // TypeORM answers a raw UPDATE with [rows, affected count].
    const [, affected] = await this.call(undefined, (manager) =>
      manager.query<[unknown[], number]>(
        `UPDATE event_store SET status = $2, job_id = COALESCE($3, job_id) WHERE id = $1::uuid`,
        [id, status, jobId ?? null],
      ),
    );
    if (affected === 0) throw new EventBusError(`Cannot update the status of event ${id}: no such event is stored`);
  }

  /**
   * Runs `work` in a transaction: the caller's own when a manager is given (TypeORM nests it as a
   * SAVEPOINT, so a failure undoes only this work and leaves the caller's writes alone), a new one otherwise.
   */
  transaction<T>(manager: EntityManager | undefined, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.call(manager, (target) => target.transaction(work));
  }

  private run<Row>(manager: EntityManager | undefined, sql: string, params: unknown[]): Promise<Row[]> {
    return this.call(manager, (target) => target.query<Row[]>(sql, params));
  }

  /** On the caller's manager, or on a connection of its own; bounded either way. */
  private call<T>(manager: EntityManager | undefined, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return callStore(this.dataSource, manager, work, this.timeoutMs);
  }
}
