/**
 * Marks `failed` the `retrying` record a job owns, keeping its `last_error` (the failure the job
 * carries); changes nothing when the record is in another state.
 * `$1`: event id, `$2`: handler, `$3`: attempts, `$4`: the job id.
 */
export const SETTLE_CARRIED_FAILURE_SQL = `
  UPDATE event_handler_deliveries
  SET status = 'failed', attempts = $3, failed_at = NOW(), updated_at = NOW()
  WHERE event_id = $1 AND handler = $2 AND job_id = $4 AND status = 'retrying'`;
