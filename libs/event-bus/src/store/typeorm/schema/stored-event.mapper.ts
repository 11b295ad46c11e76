import type { EventMetadata, EventStatus, StoredEvent } from '../../../events/domain-event.js';

/**
 * A row of `event_store` as `pg` returns it for `storedEventColumns`: BIGINT as a string, timestamps
 * as ISO text, jsonb parsed.
 */
export interface EventStoreRow {
  id: string;
  event_type: string;
  tenant_id: string;
  payload: unknown;
  timestamp: Date | string;
  created_at: Date | string;
  sequence_number: string | number;
  version: string | number | null;
  job_id: string | null;
  workflow_id: string | null;
  status: string | null;
  metadata: Record<string, unknown> | null;
}

const COLUMNS = [
  'id',
  'event_type',
  'tenant_id',
  'payload',
  'timestamp',
  'created_at',
  'sequence_number',
  'version',
  'job_id',
  'workflow_id',
  'status',
  'metadata',
] as const;

/**
 * Timestamps are read as the ISO strings the API returns, formatted by PostgreSQL: pg would parse
 * each into a Date that the mapper then formats again, which was a fifth of the CPU of a replay.
 * Milliseconds are truncated, as a JavaScript Date does; the years a store can hold (1 to 9999, as
 * event timestamps are validated and PostgreSQL has no year 0) print as JavaScript prints them.
 */
const TIMESTAMP_COLUMNS: ReadonlySet<string> = new Set(['timestamp', 'created_at']);
const ISO_FORMAT = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** The names of the columns `storedEventColumns` selects, to select them again from a subquery. */
export function storedEventColumnNames(): string {
  return COLUMNS.join(', ');
}

/** The column list `toStoredEvent` needs, optionally qualified: `SELECT ${storedEventColumns('e')} FROM event_store e`. */
export function storedEventColumns(alias?: string): string {
  return COLUMNS.map((column) => {
    const qualified = alias ? `${alias}.${column}` : column;
    return TIMESTAMP_COLUMNS.has(column)
      ? `to_char(${qualified} AT TIME ZONE 'UTC', ${ISO_FORMAT}) AS ${column}`
      : qualified;
  }).join(', ');
}

/** A raw row → the `StoredEvent` of the public API. */
export function toStoredEvent<P = unknown>(row: EventStoreRow): StoredEvent<P> {
  const sequenceNumber = toSafeInteger('sequence_number', row.sequence_number, row.id);
  const event: StoredEvent<P> = {
    id: row.id,
    type: row.event_type,
    timestamp: toIsoString(row.timestamp),
    tenantId: row.tenant_id,
    payload: row.payload as P,
    sequenceNumber,
    version: row.version === null ? null : toSafeInteger('version', row.version, row.id),
    // The original schema defaults status to 'processed' and allows NULL; the library always writes one.
    status: (row.status ?? 'processed') as EventStatus,
    createdAt: toIsoString(row.created_at),
  };
  // metadata.jobId lives in its own column (the bus sets it after the insert); the API shows it in metadata.
  if (row.metadata || row.job_id !== null) {
    const metadata: EventMetadata = { ...row.metadata };
    if (row.job_id !== null) metadata.jobId = row.job_id;
    event.metadata = metadata;
  }
  return event;
}

/** A BIGINT column (text from `pg`) as a number; a value past 2^53 fails loudly instead of being rounded. */
function toSafeInteger(column: string, value: string | number, eventId: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number)) {
    throw new RangeError(`${column} ${String(value)} of event ${eventId} is not a safe integer`);
  }
  return number;
}

/** `storedEventColumns` reads timestamps as ISO strings already; a Date comes from a row selected otherwise. */
function toIsoString(value: Date | string): string {
  return typeof value === 'string' ? value : value.toISOString();
}
