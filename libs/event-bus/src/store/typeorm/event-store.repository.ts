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
import { buildInsertEvents, type ExistingIds } from './schema/insert-events.sql.js';
import { buildInsertAtVersion } from './schema/insert-at-version.sql.js';
import { TRANSACTION_ISOLATION_SQL } from './schema/transaction-isolation.sql.js';
import { WORKFLOW_VERSION_SQL, WORKFLOW_VERSIONS_ANY_TENANT_SQL } from './schema/workflow-version.sql.js';
import type { WorkflowStream } from '../expected-version.js';
import type { WorkflowVersion } from '../validating-event-store.js';
import type { CheckedPrune } from '../prune-options.validation.js';
import type { PruneBatchResult, PruneCursor } from '../prune-loop.js';
import { PRUNE_START_TIMESTAMP, pruneBatchSql } from './schema/prune-batch.sql.js';
import { storedEventColumns, toStoredEvent } from './schema/stored-event.mapper.js';
import type { EventStoreRow } from './schema/stored-event.mapper.js';

/** Whether `error` is an INSERT refused because one of its ids is stored already. */
export function isStoredIdViolation(error: unknown): boolean {
  return isUniqueViolation(error, 'event_store_pkey');
}

/**
 * Whether `error` is an INSERT that lost the race for a workflow's version: a concurrent append took
 * it first (insert-events.sql.ts).
 */
export function isVersionViolation(error: unknown): boolean {
  return isUniqueViolation(error, WORKFLOW_VERSION_INDEX);
}

/** The stream PostgreSQL names in a version violation ("Key (tenant_id, workflow_id, version)=(t, w, 3) …"). */
export function violatedStream(error: unknown): WorkflowStream | undefined {
  const detail = driverErrorOf(error)?.detail;
  const match =
    typeof detail === 'string'
      ? /^Key \(tenant_id, workflow_id, version\)=\(([0-9a-f-]{36}), (.*), \d+\)/.exec(detail)
      : null;
  return match ? { tenantId: match[1], workflowId: match[2] } : undefined;
}

/** The unique index on `(tenant_id, workflow_id, version)` (migration 1764300004000). */
const WORKFLOW_VERSION_INDEX = 'event_store_workflow_version_idx';

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const driverError = driverErrorOf(error);
  return driverError?.code === UNIQUE_VIOLATION && driverError.constraint === constraint;
}

function driverErrorOf(error: unknown): { code?: string; constraint?: string; detail?: string } | undefined {
  return (error as { driverError?: { code?: string; constraint?: string; detail?: string } } | null)?.driverError;
}

/** PostgreSQL's SQLSTATE for a unique violation. */
const UNIQUE_VIOLATION = '23505';

/** `$1`–`$7` of the INSERTs: the batch as parallel arrays (see `freshInputCte`). */
function insertParams(events: readonly ValidatedEvent[]): unknown[] {
  return [
    events.map(({ event }) => event.id),
    events.map(({ event }) => event.type),
    events.map(({ event }) => event.tenantId),
    events.map(({ payloadJson }) => payloadJson),
    events.map(({ event }) => event.timestamp),
    events.map(({ event }) => event.metadata?.workflowId ?? null),
    events.map(({ metadataJson }) => metadataJson),
  ];
}

/** One page of `stream()`, with the position of its last event and the horizon it was read below. */
export interface StreamPage {
  events: StoredEvent[];
  last: StreamPosition | undefined;
  horizon: bigint;
}

/** What `insertAtVersion` did: the rows it inserted, and the stream's version its statement saw. */
export interface VersionedInsert {
  inserted: StoredEvent[];
  currentVersion: number;
}

/** The answer of one prune batch: the deleted rows as JSON when archiving, their count otherwise. */
interface PruneBatchRow {
  examined: number;
  last_timestamp: string | null;
  last_sequence: string | null;
  deleted: number | EventStoreRow[];
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
   * One multi-row INSERT of the whole batch, each workflow's events numbered with its stream's next
   * versions (insert-events.sql.ts); ids already stored are skipped (`ON CONFLICT DO NOTHING`) and
   * missing from the result, or, with `existing: 'reject'`, fail the whole statement with a unique
   * violation of `event_store_pkey` (see `isStoredIdViolation`). A concurrent append that took one of
   * the versions first fails it with a version violation (`isVersionViolation`): nothing was inserted.
   */
  async insert(
    events: readonly ValidatedEvent[],
    manager?: EntityManager,
    { existing = 'skip' }: { existing?: ExistingIds } = {},
  ): Promise<StoredEvent[]> {
    if (events.length === 0) return [];
    const rows = await this.run<EventStoreRow>(manager, buildInsertEvents(existing), insertParams(events));
    return rows.map((row) => toStoredEvent(row));
  }

  /**
   * Appends one stream's events at `expectedVersion + 1, …` only if the stream is at `expectedVersion`
   * (insert-at-version.sql.ts); resolves to what was inserted (nothing when the stream was elsewhere)
   * and the version the statement saw. Stored ids as in `insert`.
   */
  async insertAtVersion(
    events: readonly ValidatedEvent[],
    stream: WorkflowStream,
    expectedVersion: number,
    manager: EntityManager | undefined,
    { existing }: { existing: ExistingIds },
  ): Promise<VersionedInsert> {
    const rows = await this.run<{ current_version: string } & (EventStoreRow | { id: null })>(
      manager,
      buildInsertAtVersion(existing),
      [...insertParams(events), stream.tenantId, stream.workflowId, expectedVersion],
    );
    return {
      inserted: rows.flatMap((row) => (row.id === null ? [] : [toStoredEvent(row as EventStoreRow)])),
      currentVersion: Number(rows[0].current_version),
    };
  }

  /** A stream's last version, 0 when it has none; in the caller's transaction when a manager is given. */
  async workflowVersion(stream: WorkflowStream, manager?: EntityManager): Promise<number> {
    const [{ version }] = await this.run<{ version: string }>(manager, WORKFLOW_VERSION_SQL, [
      stream.tenantId,
      stream.workflowId,
    ]);
    return Number(version);
  }

  /** The last version of a workflow id's stream in each tenant (at most two: see WORKFLOW_VERSIONS_ANY_TENANT_SQL). */
  async workflowVersionsInAnyTenant(workflowId: string): Promise<WorkflowVersion[]> {
    const rows = await this.run<{ tenant_id: string; version: string | null }>(
      undefined,
      WORKFLOW_VERSIONS_ANY_TENANT_SQL,
      [workflowId],
    );
    return rows.map((row) => ({ tenantId: row.tenant_id, workflowId, version: Number(row.version ?? 0) }));
  }

  /** The isolation level of the caller's transaction, as PostgreSQL spells it ('read committed', …). */
  async isolationLevel(manager: EntityManager): Promise<string> {
    const [{ level }] = await this.run<{ level: string }>(manager, TRANSACTION_ISOLATION_SQL, []);
    return level;
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

  /**
   * One batch of `prune` (schema/prune-batch.sql.ts), bounded by the deadline. With `archive`, the
   * batch is a transaction that commits only once `archive` resolved for the deleted events.
   */
  async pruneBatch(prune: CheckedPrune, after: PruneCursor | undefined): Promise<PruneBatchResult> {
    const params = [
      prune.before,
      after?.timestamp ?? PRUNE_START_TIMESTAMP,
      after?.sequenceNumber ?? 0,
      prune.batchSize,
      prune.statuses,
      prune.statuses.includes('failed') ? ['succeeded', 'failed'] : ['succeeded'],
    ];
    const { archive } = prune;
    const [row] = archive
      ? await this.transaction(undefined, async (manager) => {
          const rows = await manager.query<PruneBatchRow[]>(pruneBatchSql(true), params);
          const deleted = rows[0].deleted as EventStoreRow[];
          if (deleted.length > 0) await archive(deleted.map((event) => toStoredEvent(event)));
          return rows;
        })
      : await this.run<PruneBatchRow>(undefined, pruneBatchSql(false), params);
    const deleted = typeof row.deleted === 'number' ? row.deleted : row.deleted.length;
    // A window shorter than the batch reached the cutoff: nothing older is left to examine.
    const next =
      row.examined < prune.batchSize || row.last_timestamp === null
        ? undefined
        : { timestamp: row.last_timestamp, sequenceNumber: Number(row.last_sequence) };
    return { deleted, next };
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
