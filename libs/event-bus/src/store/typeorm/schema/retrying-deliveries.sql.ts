/** The handler deliveries of some events that a handler job still owns (`retrying`). `$1`: event ids. */
export const RETRYING_DELIVERIES_SQL = `
  SELECT event_id, handler, attempts, run, job_id FROM event_handler_deliveries
  WHERE event_id = ANY($1::uuid[]) AND status = 'retrying'`;
