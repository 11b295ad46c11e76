import type { CheckedFilter } from '../../event-filter.validation.js';
import { GAP_SAFE_HORIZON, GAP_SAFE_VISIBILITY } from './gap-safe-visibility.js';
import { storedEventColumnNames, storedEventColumns } from './stored-event.mapper.js';

/**
 * The SELECTs behind every read. The WHERE clause is assembled from a fixed list of conditions,
 * each with its value as a parameter: no caller string ever becomes SQL. Written by hand rather
 * than with TypeORM's query builder because the gap-safe conditions and keyset paging are raw SQL
 * anyway and the rows go through `toStoredEvent`, which the bus's own SQL shares. Why the two
 * gap-safe shapes (a sequence page, a stream page) look as they do: gap-safe-visibility.ts.
 */
export interface SqlQuery {
  sql: string;
  params: unknown[];
}

export interface EventSelectOptions {
  /** A one-shot page in sequence order that stops before the first row not yet final (see gap-safe-visibility.ts). */
  gapSafe: boolean;
}

/** A position in the stream's order, `(transaction_id, sequence_number)`; the stream continues strictly after it. */
export interface StreamPosition {
  transactionId: bigint;
  sequenceNumber: number;
}

/**
 * `query()` and the `get…` methods. A gap-safe page takes the matching rows after `afterSequence`
 * in sequence order (LIMIT applied there, so the usual index serves it), then keeps them only up
 * to the first one whose transaction is not below the horizon: `every(…) OVER (ORDER BY …)` is
 * true exactly for that prefix, so the page never passes a visible row that a later page would
 * have to return below the caller's cursor.
 */
export function buildEventSelect(filter: CheckedFilter, { gapSafe }: EventSelectOptions): SqlQuery {
  const params: unknown[] = [];
  const param = (value: unknown): string => `$${params.push(value)}`;
  const conditions = filterConditions(filter, param);
  const limit = filter.limit !== undefined ? ` LIMIT ${param(filter.limit)}` : '';
  const columns = storedEventColumns();
  const select = `SELECT ${columns} FROM event_store${where(conditions)} ORDER BY sequence_number${limit}`;
  if (!gapSafe) return { sql: select, params };
  const names = storedEventColumnNames();
  return {
    sql:
      `SELECT ${names} FROM (` +
      `SELECT ${names}, every(${GAP_SAFE_VISIBILITY}) OVER (ORDER BY sequence_number) AS final ` +
      `FROM (SELECT ${columns}, transaction_id FROM event_store${where(conditions)} ORDER BY sequence_number${limit}) ` +
      `AS page) AS page WHERE final ORDER BY sequence_number`,
    params,
  };
}

/**
 * One page of `stream()`: keyset on `(transaction_id, sequence_number)`, only below the horizon,
 * which every row also carries (`horizon`, as text) so that a short page tells the stream how far
 * it has read: the LEFT JOIN keeps that one row when the page is empty (`id` is then null).
 * `afterSequence` stays a plain condition: the start position (`buildStreamStart`) only skips
 * the transactions that cannot hold such rows.
 */
export function buildStreamPage(filter: CheckedFilter, after: StreamPosition | undefined, limit: number): SqlQuery {
  const params: unknown[] = [];
  const param = (value: unknown): string => `$${params.push(value)}`;
  const conditions = filterConditions(filter, param);
  if (after) conditions.push(afterPosition(after, param));
  conditions.push('transaction_id < horizon.xid');
  return {
    sql:
      `SELECT horizon.xid::text AS horizon, page.* FROM (SELECT ${GAP_SAFE_HORIZON} AS xid) AS horizon ` +
      `LEFT JOIN LATERAL (SELECT ${storedEventColumns()}, transaction_id ` +
      `FROM event_store${where(conditions)} ORDER BY transaction_id, sequence_number LIMIT ${param(limit)}) ` +
      `AS page ON true`,
    params,
  };
}

/**
 * Where a stream from `afterSequence` starts in `(transaction_id, sequence_number)` order: at the
 * oldest transaction holding a visible matching row after that sequence number, or at the horizon
 * if that is older (rows of transactions still running there become visible later, above it).
 * `min` over the transaction id as a number: `min(xid8)` needs PostgreSQL 14, and a `min` of the
 * column itself would be planned as a walk of the whole transaction-order index.
 */
export function buildStreamStart(filter: CheckedFilter): SqlQuery {
  const params: unknown[] = [];
  const param = (value: unknown): string => `$${params.push(value)}`;
  const conditions = filterConditions(filter, param);
  return {
    sql:
      `SELECT least((SELECT min(transaction_id::text::bigint) FROM event_store${where(conditions)}), ` +
      `(${GAP_SAFE_HORIZON})::text::bigint)::text AS start`,
    params,
  };
}

/**
 * Whether a committed row matching the filter (its `afterSequence` included) and not read yet
 * (after `after`) lies at or below `upToSequence`. A plain read, without the gap-safe horizon: it
 * tells a stream that stopped short whether committed events are still hidden behind an older
 * running transaction.
 */
export function buildCommittedExists(filter: CheckedFilter, upToSequence: number, after?: StreamPosition): SqlQuery {
  const params: unknown[] = [];
  const param = (value: unknown): string => `$${params.push(value)}`;
  const conditions = filterConditions(filter, param);
  conditions.push(`sequence_number <= ${param(upToSequence)}`);
  if (after) conditions.push(afterPosition(after, param));
  return { sql: `SELECT EXISTS (SELECT FROM event_store${where(conditions)}) AS found`, params };
}

/**
 * The lowest sequence number of the committed rows matching the filter that a stream has not read
 * (after `after`): where a new stream must start so that it skips none of them. Taken over a
 * materialized set so that `min` is not planned as a walk of the sequence index from its start.
 */
export function buildFirstUnread(filter: CheckedFilter, after: StreamPosition | undefined): SqlQuery {
  const params: unknown[] = [];
  const param = (value: unknown): string => `$${params.push(value)}`;
  const conditions = filterConditions(filter, param);
  if (after) conditions.push(afterPosition(after, param));
  return {
    sql:
      `WITH unread AS MATERIALIZED (SELECT sequence_number FROM event_store${where(conditions)}) ` +
      'SELECT min(sequence_number) AS min FROM unread',
    params,
  };
}

/** The highest sequence number committed so far (a plain read: one step down the unique index). */
export const MAX_SEQUENCE_SQL = 'SELECT max(sequence_number) AS max FROM event_store';

function afterPosition(after: StreamPosition, param: (value: unknown) => string): string {
  return (
    `(transaction_id, sequence_number) > ` +
    `(${param(after.transactionId.toString())}::xid8, ${param(after.sequenceNumber)}::bigint)`
  );
}

/** The WHERE conditions of a checked filter, each value a parameter (shared with count-events.sql.ts). */
export function filterConditions(filter: CheckedFilter, param: (value: unknown) => string): string[] {
  const conditions: string[] = [];
  if (filter.types) {
    conditions.push(
      filter.types.length === 1
        ? `event_type = ${param(filter.types[0])}`
        : `event_type = ANY(${param(filter.types)}::varchar[])`,
    );
  }
  if (filter.tenantId !== undefined) conditions.push(`tenant_id = ${param(filter.tenantId)}::uuid`);
  if (filter.workflowId !== undefined) conditions.push(`workflow_id = ${param(filter.workflowId)}`);
  if (filter.from) conditions.push(`timestamp >= ${param(filter.from.toISOString())}::timestamptz`);
  if (filter.to) conditions.push(`timestamp < ${param(filter.to.toISOString())}::timestamptz`);
  if (filter.statuses) {
    conditions.push(
      filter.statuses.length === 1
        ? `status = ${param(filter.statuses[0])}`
        : `status = ANY(${param(filter.statuses)}::varchar[])`,
    );
  }
  if (filter.afterSequence !== undefined) conditions.push(`sequence_number > ${param(filter.afterSequence)}`);
  return conditions;
}

export function where(conditions: string[]): string {
  return conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
}
