import { lockEventRowsInIdOrder } from './row-lock-order.sql.js';

/**
 * `pending` → `processing`; returns the ids that moved. Only `pending` rows move: a row further
 * along is a re-delivery. Rows are locked in id order first (row-lock-order.sql.ts): the publisher's
 * job-id batch often holds rows of the same events. The job id is recorded when it is missing (the
 * publisher records it after `publish` resolves, and that write may come later or fail);
 * `coalesce` leaves a recorded id as it is, so the column is unchanged and the update stays HOT.
 * `$1`: event ids; `$2`: their event jobs' ids (same order).
 */
export const MARK_PROCESSING_SQL = `
  ${lockEventRowsInIdOrder('$1')}
  UPDATE event_store AS e SET status = 'processing', job_id = coalesce(e.job_id, j.job_id)
  FROM locked, unnest($1::uuid[], $2::varchar[]) AS j(id, job_id)
  WHERE e.id = locked.id AND e.id = j.id AND e.status = 'pending'
  RETURNING e.id`;
