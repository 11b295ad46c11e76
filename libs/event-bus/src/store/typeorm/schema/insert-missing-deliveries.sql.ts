/**
 * The records of an event job whose handlers did not all succeed: one per handler it ran. A row that
 * exists already belongs to a handler job and is left alone.
 * `$1`…`$6`: event ids, handlers, statuses, attempts, last errors, job ids (parallel arrays).
 */
export const INSERT_MISSING_DELIVERIES_SQL = `
  INSERT INTO event_handler_deliveries (event_id, handler, status, attempts, last_error, job_id, failed_at)
  SELECT v.event_id, v.handler, v.status, v.attempts, v.last_error, v.job_id,
         CASE WHEN v.status = 'failed' THEN NOW() END
  FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::int[], $5::text[], $6::varchar[])
    AS v(event_id, handler, status, attempts, last_error, job_id)
  ON CONFLICT (event_id, handler) DO NOTHING`;
