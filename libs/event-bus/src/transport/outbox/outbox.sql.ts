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
 * What the lost-job recovery needs to decide about an unfinished event; `stale`: older than the
 * parameter `ms` (milliseconds; 0: every row is).
 */
function unfinishedColumns(ms: string): string {
  return `id, sequence_number, status, job_id,
    (${ms}::int = 0 OR created_at < now() - ${ms}::int * interval '1 millisecond') AS stale`;
}

/**
 * Every unfinished event (`pending` or `processing`, job id recorded or not), oldest first, from a
 * keyset cursor: the lost-job recovery looks for each one's job. Only the columns it needs to decide;
 * the few events it must re-enqueue are read whole with UNFINISHED_EVENTS_SQL. No index filters on
 * `status` (status updates stay HOT, see the make-status-updates-hot migration), so the periodic walk
 * keeps its cursor near the newest events (unfinished-event-walk.ts).
 * `$1`: after this sequence number; `$2`: batch size; `$3`: the age in ms that makes a row `stale`.
 */
export const UNFINISHED_SQL = `
  SELECT ${unfinishedColumns('$3')} FROM event_store
  WHERE status IN ('pending', 'processing') AND sequence_number > $1
  ORDER BY sequence_number
  LIMIT $2`;

/** The same, for given events (by primary key). `$1`: event ids; `$2`: the age in ms that makes a row `stale`. */
export const UNFINISHED_BY_ID_SQL = `
  SELECT ${unfinishedColumns('$2')} FROM event_store
  WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'processing')
  ORDER BY sequence_number`;

/** The newest sequence number (an index-only look-up), where the next walk may start when none is unfinished. */
export const LAST_SEQUENCE_SQL = `SELECT coalesce(max(sequence_number), 0) AS last FROM event_store`;

/** The unfinished ones among some events, whole. `$1`: event ids. */
export const UNFINISHED_EVENTS_SQL = `
  SELECT ${storedEventColumns()} FROM event_store
  WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'processing')
  ORDER BY sequence_number`;

/** The handler deliveries of some events that a handler job still owns (`retrying`). `$1`: event ids. */
export const RETRYING_DELIVERIES_SQL = `
  SELECT event_id, handler, attempts, run, job_id FROM event_handler_deliveries
  WHERE event_id = ANY($1::uuid[]) AND status = 'retrying'`;

/** Which of the given events are unfinished. `$1`: event ids. */
export const UNFINISHED_AMONG_SQL = `
  SELECT id FROM event_store WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'processing')`;
