import { storedEventColumns } from './stored-event.mapper.js';

/**
 * One batch of `prune`, one statement (its own short transaction). Parameters:
 * `$1` before (timestamptz), `$2`/`$3` the cursor (timestamp as text, sequence number; the last
 * event the previous batch examined), `$4` batch size, `$5` the event statuses to delete,
 * `$6` the delivery-record statuses that do not keep an event (`succeeded`, and `failed` when the
 * caller asked for failed events).
 *
 * - `examined`: the next `$4` events older than `before` in `(timestamp, sequence_number)` order,
 *   a range of `event_store_timestamp_idx`. The batch deletes only among them, so it is bounded.
 * - `claimed`: the finished ones among them, locked without waiting (`SKIP LOCKED`: a row a worker
 *   or a re-drive is writing is left for the next prune). Kept: every event with a delivery record
 *   still `retrying` (or `failed`, unless failed events were asked for), and the newest event of
 *   each workflow stream (tenant, workflow), its highest version: a later append numbers itself
 *   after the stream's highest version, so the stream's head must stay (see docs/retention.md);
 *   and every event an ordered handler has not read yet (after the lowest checkpoint of any). The status test is on the locked
 *   row, so PostgreSQL re-checks it against a write that committed meanwhile.
 * - `held`: their delivery records, locked without waiting too. A re-drive locks a record before
 *   its event; waiting for the record here, while holding the event, could deadlock with it. An
 *   event one of whose records someone else holds is left alone (`doomed` needs them all).
 * - The DELETE cascades to the delivery records (and any other table that references the event
 *   `ON DELETE CASCADE`).
 */
export function pruneBatchSql(archive: boolean): string {
  return `
  WITH examined AS MATERIALIZED (
    SELECT id, timestamp, sequence_number FROM event_store
    WHERE timestamp < $1 AND timestamp >= $2::timestamptz
      AND (timestamp, sequence_number) > ($2::timestamptz, $3::bigint)
    ORDER BY timestamp, sequence_number
    LIMIT $4
  ),
  claimed AS MATERIALIZED (
    SELECT e.id FROM event_store e
    WHERE e.id IN (SELECT id FROM examined)
      AND e.status = ANY($5::varchar[])
      AND NOT EXISTS (
        SELECT 1 FROM event_handler_deliveries d WHERE d.event_id = e.id AND d.status <> ALL($6::varchar[]))
      AND (e.workflow_id IS NULL OR EXISTS (
        SELECT 1 FROM event_store later
        WHERE later.workflow_id = e.workflow_id AND later.tenant_id = e.tenant_id
          AND later.version > e.version))
      AND NOT EXISTS (
        SELECT 1 FROM event_bus_ordered_checkpoints c
        WHERE (c.transaction_id, c.sequence_number) < (e.transaction_id, e.sequence_number))
    ORDER BY e.id
    FOR UPDATE OF e SKIP LOCKED
  ),
  held AS MATERIALIZED (
    SELECT d.event_id, d.handler FROM event_handler_deliveries d
    WHERE d.event_id IN (SELECT id FROM claimed)
    ORDER BY d.event_id, d.handler
    FOR UPDATE SKIP LOCKED
  ),
  doomed AS (
    SELECT c.id FROM claimed c
    WHERE NOT EXISTS (
      SELECT 1 FROM event_handler_deliveries d
      WHERE d.event_id = c.id
        AND NOT EXISTS (SELECT 1 FROM held h WHERE h.event_id = d.event_id AND h.handler = d.handler))
  ),
  deleted AS (
    DELETE FROM event_store e USING doomed WHERE e.id = doomed.id
    RETURNING ${archive ? storedEventColumns('e') : 'e.id'}
  ),
  last_examined AS (
    SELECT timestamp, sequence_number FROM examined ORDER BY timestamp DESC, sequence_number DESC LIMIT 1
  )
  SELECT
    (SELECT count(*) FROM examined)::int AS examined,
    (SELECT to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM last_examined) AS last_timestamp,
    (SELECT sequence_number FROM last_examined)::text AS last_sequence,
    ${archive ? `(SELECT coalesce(json_agg(deleted ORDER BY deleted.sequence_number), '[]'::json) FROM deleted)` : `(SELECT count(*) FROM deleted)::int`} AS deleted`;
}

/** The cursor of the first batch: before every event. */
export const PRUNE_START_TIMESTAMP = '-infinity';
