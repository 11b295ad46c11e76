/**
 * The status writes of the happy path, batched across the jobs a worker runs concurrently. Rows
 * are locked in id order first (see row-lock-order.sql.ts): a batch here and the publisher's job-id
 * batch often hold rows of the same events.
 */
import { lockEventRowsInIdOrder } from '../../../store/typeorm/row-lock-order.sql.js';

/**
 * `pending` → `processing`; returns the ids that moved. Only `pending` rows move: a row further
 * along is a re-delivery. `$1`: event ids.
 */
export const MARK_PROCESSING_SQL = `
  ${lockEventRowsInIdOrder('$1')}
  UPDATE event_store AS e SET status = 'processing'
  FROM locked WHERE e.id = locked.id AND e.status = 'pending'
  RETURNING e.id`;

/** `pending`/`processing` → `processed`, for events whose handlers all succeeded. `$1`: event ids. */
export const MARK_PROCESSED_SQL = `
  ${lockEventRowsInIdOrder('$1')}
  UPDATE event_store AS e SET status = 'processed'
  FROM locked WHERE e.id = locked.id AND e.status IN ('pending', 'processing')`;
