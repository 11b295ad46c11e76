import { lockEventRowsInIdOrder } from './row-lock-order.sql.js';

/**
 * Re-drive, first statement: each record becomes `retrying` under its new run and job, with a fresh
 * attempt count. `$1`…`$4`: event ids, handlers, runs, job ids (parallel arrays).
 */
export const MARK_DELIVERIES_REDRIVEN_SQL = `
  UPDATE event_handler_deliveries d
  SET status = 'retrying', attempts = 0, failed_at = NULL, run = v.run, job_id = v.job_id, updated_at = NOW()
  FROM unnest($1::uuid[], $2::varchar[], $3::int[], $4::varchar[]) AS v(event_id, handler, run, job_id)
  WHERE d.event_id = v.event_id AND d.handler = v.handler`;

/** Re-drive, second statement: their events are unfinished (`processing`) again. `$1`: event ids. */
export const MARK_EVENTS_REDRIVEN_SQL = `
  ${lockEventRowsInIdOrder('$1')}
  UPDATE event_store AS e SET status = 'processing' FROM locked WHERE e.id = locked.id AND e.status <> 'processing'`;
