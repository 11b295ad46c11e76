/**
 * Claims a transactional handler's inbox row inside its transaction: one row back when this
 * transaction claimed it, none when the handler had already handled the event. A concurrent claim
 * of the same key waits until the first transaction ends, then finds the row (it committed) or
 * claims it (it rolled back).
 *
 * That wait is why `$3` (ms, or null) limits how long the claiming transaction may sit idle
 * (`idle_in_transaction_session_timeout`, for this transaction only): a worker frozen while its
 * handler runs would otherwise hold the row, and the stalled job's redelivery waiting on it, for as
 * long as its connection lives. Past the limit PostgreSQL ends that session and rolls it back.
 * `$1`: event id, `$2`: handler name, `$3`: the idle limit.
 */
export const CLAIM_INBOX_SQL = `
  WITH idle_limit AS (
    SELECT CASE WHEN $3::int IS NOT NULL
      THEN set_config('idle_in_transaction_session_timeout', $3::int::text, true) END AS value
  )
  INSERT INTO event_bus_inbox (event_id, handler)
  SELECT $1, $2 FROM idle_limit
  ON CONFLICT (event_id, handler) DO NOTHING
  RETURNING event_id`;
