/**
 * Records what a partition key of an ordered handler has done, for the lease holder only (the lease
 * row is locked `FOR SHARE` until the transaction ends, so the bucket cannot change hands meanwhile).
 *
 * - `done` / `parked` move the key's progress forward to the event, never back (by version in a
 *   workflow, by position otherwise), and clear a block; `moved` says whether it did. A repeated
 *   delivery finds the progress there and moves nothing: a transactional handler then skips its call.
 *   A concurrent duplicate waits on the key's row (or its unique key) until the first commits.
 * - `blocked` marks the key blocked at the event and leaves its progress where it was.
 *
 * - Inside a handler's transaction the lease row stays locked until the commit, so a process frozen
 *   mid-transaction (SIGSTOP, a VM paused) would keep its bucket from changing hands for as long as
 *   its connection lives. `$12` (ms, or null outside such a transaction) limits how long that
 *   transaction may sit idle (`idle_in_transaction_session_timeout`, for this transaction only):
 *   past it PostgreSQL ends the session, the transaction rolls back, and the bucket can be taken.
 *
 * `$1`: handler; `$2`: bucket; `$3`: owner; `$4`: epoch; `$5`: tenant; `$6`: workflow ('' for none);
 * `$7`: version; `$8`, `$9`: position; `$10`: outcome; `$11`: event id; `$12`: idle limit in ms.
 */
export const RECORD_KEY_PROGRESS_SQL = `
  WITH lease AS (
    SELECT FROM event_bus_ordered_checkpoints
    WHERE handler = $1 AND bucket = $2 AND owner = $3 AND epoch = $4
    FOR SHARE
  ), moved AS (
    INSERT INTO event_bus_ordered_keys AS k
      (handler, tenant_id, workflow_id, version, transaction_id, sequence_number, blocked_event_id, parked)
    SELECT $1, $5::uuid, $6,
      CASE WHEN $10 = 'blocked' THEN $7::bigint - 1 ELSE $7::bigint END,
      CASE WHEN $10 = 'blocked' THEN '0'::xid8 ELSE $8::xid8 END,
      CASE WHEN $10 = 'blocked' THEN 0 ELSE $9::bigint END,
      CASE WHEN $10 = 'blocked' THEN $11::uuid END,
      CASE WHEN $10 = 'parked' THEN 1 ELSE 0 END
    FROM lease
    ON CONFLICT (handler, tenant_id, workflow_id) DO UPDATE SET
      version = CASE WHEN $10 = 'blocked' THEN k.version ELSE EXCLUDED.version END,
      transaction_id = CASE WHEN $10 = 'blocked' THEN k.transaction_id ELSE EXCLUDED.transaction_id END,
      sequence_number = CASE WHEN $10 = 'blocked' THEN k.sequence_number ELSE EXCLUDED.sequence_number END,
      blocked_event_id = EXCLUDED.blocked_event_id,
      parked = k.parked + EXCLUDED.parked,
      updated_at = now()
    WHERE $10 = 'blocked' OR CASE
      WHEN EXCLUDED.version IS NOT NULL AND k.version IS NOT NULL THEN k.version < EXCLUDED.version
      ELSE (k.transaction_id, k.sequence_number) < (EXCLUDED.transaction_id, EXCLUDED.sequence_number)
    END
    RETURNING 1
  )
  SELECT EXISTS (SELECT FROM lease) AS held, EXISTS (SELECT FROM moved) AS moved,
    CASE WHEN $12::int IS NOT NULL
      THEN set_config('idle_in_transaction_session_timeout', $12::int::text, true) END AS idle_limit`;
