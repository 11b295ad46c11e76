/**
 * Claims a transactional handler's inbox row inside its transaction: one row back when this
 * transaction claimed it, none when the handler had already handled the event. A concurrent claim
 * of the same key waits until the first transaction ends, then finds the row (it committed) or
 * claims it (it rolled back). `$1`: event id, `$2`: handler name.
 */
export const CLAIM_INBOX_SQL = `
  INSERT INTO event_bus_inbox (event_id, handler) VALUES ($1, $2)
  ON CONFLICT (event_id, handler) DO NOTHING
  RETURNING event_id`;
