/**
 * The outcome of one attempt of a handler job. Only the job that owns the record's current run
 * (`job_id`) may change it, so a stale job of an earlier run cannot undo a re-drive. Returns the
 * record's status before the write (`previous`), and no row when it was not this job's to write.
 * `$1`…`$6`: event id, handler, status, attempts, last error, job id.
 */
export const SAVE_ATTEMPT_SQL = `
  WITH prior AS (SELECT status FROM event_handler_deliveries WHERE event_id = $1 AND handler = $2)
  INSERT INTO event_handler_deliveries AS d (event_id, handler, status, attempts, last_error, job_id, failed_at)
  VALUES ($1, $2, $3::varchar, $4, $5, $6, CASE WHEN $3::varchar = 'failed' THEN NOW() END)
  ON CONFLICT (event_id, handler) DO UPDATE SET
    status = EXCLUDED.status,
    attempts = EXCLUDED.attempts,
    last_error = COALESCE(EXCLUDED.last_error, d.last_error),
    failed_at = EXCLUDED.failed_at,
    updated_at = NOW()
  WHERE d.job_id IS NOT DISTINCT FROM EXCLUDED.job_id
  RETURNING (SELECT status FROM prior) AS previous`;
