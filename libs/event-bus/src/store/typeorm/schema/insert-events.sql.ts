import { storedEventColumns } from './stored-event.mapper.js';

/** What an INSERT does with an id that is stored already. */
export type ExistingIds = 'skip' | 'reject';

/**
 * The batch as rows: parallel arrays through `unnest`, so the statement has seven parameters whatever
 * the batch size (a VALUES list would hit PostgreSQL's 65,535-parameter limit past ~9,000 events).
 * `$1`–`$7`: ids, types, tenant ids, payloads, timestamps, workflow ids, metadata.
 *
 * `fresh` leaves out the ids already stored before numbering (with `skip`), so that an idempotent
 * re-publish keeps its original version and takes no new one. With `reject` a stored id fails the
 * whole statement anyway (a unique violation of `event_store_pkey`), so the lookup is not needed.
 */
export function freshInputCte(existing: ExistingIds): string {
  const input =
    `SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::uuid[], $4::jsonb[], $5::timestamptz[], $6::varchar[], $7::jsonb[]) ` +
    `WITH ORDINALITY AS input (id, event_type, tenant_id, payload, timestamp, workflow_id, metadata, position)`;
  return existing === 'skip'
    ? `input AS (${input}), fresh AS (SELECT * FROM input WHERE NOT EXISTS (SELECT FROM event_store AS stored WHERE stored.id = input.id))`
    : `fresh AS (${input})`;
}

/** `INSERT INTO event_store … SELECT`, up to its FROM clause; `version` is the SQL of the row's version. */
export function insertSelect(version: string): string {
  return (
    `INSERT INTO event_store (id, event_type, tenant_id, payload, timestamp, workflow_id, metadata, version, status) ` +
    `SELECT fresh.id, fresh.event_type, fresh.tenant_id, fresh.payload, fresh.timestamp, fresh.workflow_id, fresh.metadata, ` +
    `${version}, 'pending'`
  );
}

/**
 * One multi-row INSERT of a batch that numbers each workflow's events inside the statement: the
 * stream's last version (`current`, one step down `event_store_workflow_version_idx` per workflow of
 * the batch) plus the row's place among the batch's rows of that workflow, in input order. No lock
 * is taken: two statements that number the same stream concurrently both try the same version,
 * and the unique index makes the second wait for the first and then fail (a unique violation of
 * `event_store_workflow_version_idx`); the store retries it, and the retry reads the winner's rows.
 * `ORDER BY position` hands out sequence numbers in input order, so within a stream version order
 * is sequence order.
 *
 * An id another transaction stored concurrently (invisible to `fresh`, skipped by `ON CONFLICT`)
 * leaves no gap: that transaction took the versions from the same starting point, so any row of
 * this batch numbered at or below them collides and the whole statement is retried.
 */
export function buildInsertEvents(existing: ExistingIds): string {
  return (
    `WITH ${freshInputCte(existing)}, ` +
    `current AS (SELECT stream.tenant_id, stream.workflow_id, coalesce((SELECT max(stored.version) FROM event_store AS stored ` +
    `WHERE stored.tenant_id = stream.tenant_id AND stored.workflow_id = stream.workflow_id), 0) AS version ` +
    `FROM (SELECT DISTINCT tenant_id, workflow_id FROM fresh WHERE workflow_id IS NOT NULL) AS stream) ` +
    insertSelect(
      `CASE WHEN fresh.workflow_id IS NULL THEN NULL ELSE current.version + ` +
        `row_number() OVER (PARTITION BY fresh.tenant_id, fresh.workflow_id ORDER BY fresh.position) END`,
    ) +
    ` FROM fresh LEFT JOIN current ON current.tenant_id = fresh.tenant_id AND current.workflow_id = fresh.workflow_id ` +
    `ORDER BY fresh.position ` +
    (existing === 'skip' ? 'ON CONFLICT (id) DO NOTHING ' : '') +
    `RETURNING ${storedEventColumns()}`
  );
}
