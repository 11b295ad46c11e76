/**
 * The outbox is `event_store` itself: the events stored but not enqueued yet are its rows with
 * `job_id IS NULL AND status = 'pending'` (a partial index on `job_id IS NULL` holds just those), so
 * no second table has to be kept in step with it. A transactional publish notifies the relays with
 * these; PostgreSQL delivers the notification only when the transaction commits.
 */

/** The channel a transactional publish notifies. */
export const OUTBOX_CHANNEL = 'event_bus_outbox';

/** pg_notify payloads are limited to 8000 bytes: name at most this many ids (37 bytes each), else none. */
export const MAX_NOTIFIED_IDS = 200;

/** `$1`: comma-separated event ids, or '' for "look at every un-enqueued row now". */
export const NOTIFY_OUTBOX_SQL = `SELECT pg_notify('${OUTBOX_CHANNEL}', $1)`;
