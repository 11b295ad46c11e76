/** A failed event one of whose deliveries was retried outside the library is unfinished again. `$1`: event id. */
export const REOPEN_EVENT_SQL = `UPDATE event_store SET status = 'processing' WHERE id = $1 AND status = 'failed'`;
