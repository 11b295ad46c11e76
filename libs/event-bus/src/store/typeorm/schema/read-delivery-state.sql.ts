/** An event's status and its handler records (none: one row of NULLs). `$1`: the event id. */
export const DELIVERY_STATE_SQL = `
  SELECT e.status AS event_status, d.event_id, d.handler, d.status, d.attempts, d.last_error, d.failed_at,
         d.run, d.job_id
  FROM event_store e LEFT JOIN event_handler_deliveries d ON d.event_id = e.id
  WHERE e.id = $1`;

/** A row of `event_handler_deliveries` as `pg` returns it. */
export interface DeliveryRow {
  event_id: string;
  handler: string;
  status: 'retrying' | 'succeeded' | 'failed';
  attempts: number;
  last_error: string | null;
  failed_at: Date | null;
  run: number;
  job_id: string | null;
}
