/**
 * How long the oldest event of the outbox (stored, not enqueued: see notify-outbox.sql.ts) has
 * waited, in ms, by the database's clock (no skew with the app's). Read through the partial index on
 * `job_id IS NULL` in sequence order, so it costs one index row however long the outbox is; the
 * first by sequence is the oldest stored but for transactions that overlapped, which is close enough
 * for a threshold in seconds. No row: NULL.
 */
export const OUTBOX_OLDEST_AGE_SQL = `
  SELECT (EXTRACT(EPOCH FROM (clock_timestamp() - created_at)) * 1000)::float8 AS age_ms
  FROM event_store
  WHERE job_id IS NULL AND status = 'pending'
  ORDER BY sequence_number
  LIMIT 1`;
