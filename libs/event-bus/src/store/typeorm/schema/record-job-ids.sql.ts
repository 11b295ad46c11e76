import { lockEventRowsInIdOrder } from './row-lock-order.sql.js';

/**
 * Records the BullMQ job id of each enqueued event, locking the rows in id order first (workers may
 * be writing the statuses of the same events: see row-lock-order.sql.ts). A row whose job id a
 * worker's status write has filled in already (the publisher records after `publish` resolves) is
 * left as it is: same id, no write.
 * `$1`: event ids, `$2`: job ids (same order).
 */
export const MARK_ENQUEUED_SQL = `
  ${lockEventRowsInIdOrder('$1')}
  UPDATE event_store AS e SET job_id = j.job_id
  FROM locked, unnest($1::uuid[], $2::varchar[]) AS j(id, job_id)
  WHERE e.id = locked.id AND e.id = j.id AND e.job_id IS NULL`;
