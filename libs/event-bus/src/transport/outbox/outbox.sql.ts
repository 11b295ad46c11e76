/**
 * The SQL of the outbox: the events stored but not enqueued yet are the rows of `event_store` with
 * `job_id IS NULL AND status = 'pending'` (a partial index on `job_id IS NULL` holds just those), so
 * the event table is its own outbox and no second table has to be kept in step with it.
 */
import { lockEventRowsInIdOrder } from '../../store/typeorm/row-lock-order.sql.js';
import { storedEventColumns } from '../../store/typeorm/stored-event.mapper.js';

/** The channel a transactional publish notifies; PostgreSQL delivers the notification only on commit. */
export const OUTBOX_CHANNEL = 'event_bus_outbox';

/** pg_notify payloads are limited to 8000 bytes: name at most this many ids (37 bytes each), else none. */
export const MAX_NOTIFIED_IDS = 200;

/** `$1`: comma-separated event ids, or '' for "look at every un-enqueued row now". */
export const NOTIFY_OUTBOX_SQL = `SELECT pg_notify('${OUTBOX_CHANNEL}', $1)`;

/**
 * Records the BullMQ job id of each enqueued event, locking the rows in id order first (workers may
 * be writing the statuses of the same events: see row-lock-order.sql.ts).
 * `$1`: event ids, `$2`: job ids (same order).
 */
export const MARK_ENQUEUED_SQL = `
  ${lockEventRowsInIdOrder('$1')}
  UPDATE event_store AS e SET job_id = j.job_id
  FROM locked, unnest($1::uuid[], $2::varchar[]) AS j(id, job_id)
  WHERE e.id = locked.id AND e.id = j.id`;

/**
 * Claims un-enqueued rows in sequence order; rows another relay holds are skipped, so relays in many
 * processes share the work and none enqueues a row another one is enqueueing.
 * `$1`: batch size; `$2`: only rows older than this many ms (0: any); `$3`: only these ids (NULL: any).
 */
export const CLAIM_UNENQUEUED_SQL = `
  SELECT ${storedEventColumns()} FROM event_store
  WHERE job_id IS NULL AND status = 'pending'
    AND ($2::int = 0 OR created_at < now() - $2::int * interval '1 millisecond')
    AND ($3::uuid[] IS NULL OR id = ANY($3::uuid[]))
  ORDER BY sequence_number
  LIMIT $1
  FOR UPDATE SKIP LOCKED`;

/**
 * Events that should have a job in the queue, oldest first, from a keyset cursor: the lost-job check
 * looks for each one's job. `$1`: after this sequence number; `$2`: batch size.
 */
export const UNFINISHED_ENQUEUED_SQL = `
  SELECT ${storedEventColumns()} FROM event_store
  WHERE status IN ('pending', 'processing') AND job_id IS NOT NULL
    AND sequence_number > $1
  ORDER BY sequence_number
  LIMIT $2`;

/** The handler deliveries of some events that a handler job still owns (`retrying`). `$1`: event ids. */
export const RETRYING_DELIVERIES_SQL = `
  SELECT event_id, handler, attempts, run, job_id FROM event_handler_deliveries
  WHERE event_id = ANY($1::uuid[]) AND status = 'retrying'`;

/** Which of the given events are unfinished. `$1`: event ids. */
export const UNFINISHED_AMONG_SQL = `
  SELECT id FROM event_store WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'processing')`;
