import { lockEventRowsInIdOrder } from './row-lock-order.sql.js';

/**
 * `pending`/`processing` → `processed`, for events whose handlers all succeeded; records a missing
 * job id as mark-processing.sql.ts does. `$1`: event ids; `$2`: their event jobs' ids (same order).
 */
export const MARK_PROCESSED_SQL = `
  ${lockEventRowsInIdOrder('$1')}
  UPDATE event_store AS e SET status = 'processed', job_id = coalesce(e.job_id, j.job_id)
  FROM locked, unnest($1::uuid[], $2::varchar[]) AS j(id, job_id)
  WHERE e.id = locked.id AND e.id = j.id AND e.status IN ('pending', 'processing')`;
