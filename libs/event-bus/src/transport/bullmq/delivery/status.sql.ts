/**
 * The status writes of the happy path, batched across the jobs a worker runs concurrently. Rows
 * are locked in id order first (see row-lock-order.sql.ts): a batch here and the publisher's job-id
 * batch often hold rows of the same events.
 *
 * Each write also records the job id when it is missing (the publisher records it after `publish`
 * resolves, and that write may come later or fail), so a delivered event always has one. `coalesce` leaves a recorded id as it is: the column is then
 * unchanged and the update stays HOT.
 */
import { lockEventRowsInIdOrder } from '../../../store/typeorm/row-lock-order.sql.js';

/**
 * `pending` → `processing`; returns the ids that moved. Only `pending` rows move: a row further
 * along is a re-delivery. `$1`: event ids; `$2`: their event jobs' ids (same order).
 */
export const MARK_PROCESSING_SQL = `
  ${lockEventRowsInIdOrder('$1')}
  UPDATE event_store AS e SET status = 'processing', job_id = coalesce(e.job_id, j.job_id)
  FROM locked, unnest($1::uuid[], $2::varchar[]) AS j(id, job_id)
  WHERE e.id = locked.id AND e.id = j.id AND e.status = 'pending'
  RETURNING e.id`;

/**
 * `pending`/`processing` → `processed`, for events whose handlers all succeeded.
 * `$1`: event ids; `$2`: their event jobs' ids (same order).
 */
export const MARK_PROCESSED_SQL = `
  ${lockEventRowsInIdOrder('$1')}
  UPDATE event_store AS e SET status = 'processed', job_id = coalesce(e.job_id, j.job_id)
  FROM locked, unnest($1::uuid[], $2::varchar[]) AS j(id, job_id)
  WHERE e.id = locked.id AND e.id = j.id AND e.status IN ('pending', 'processing')`;
