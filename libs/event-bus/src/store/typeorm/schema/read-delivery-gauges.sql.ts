/**
 * The delivery gauges in one round trip: the failed deliveries (counted on the partial index of
 * failed records) and the outbox backlog (the relay's partial index on `job_id IS NULL`), its age by
 * the database's clock.
 */
export const READ_DELIVERY_GAUGES_SQL = `
  SELECT (SELECT count(*) FROM event_handler_deliveries WHERE status = 'failed')::int AS failed_deliveries,
         outbox.pending::int AS outbox_pending,
         COALESCE(EXTRACT(EPOCH FROM now() - outbox.oldest), 0)::float8 AS outbox_oldest_seconds
  FROM (SELECT count(*) AS pending, min(created_at) AS oldest
        FROM event_store WHERE job_id IS NULL AND status = 'pending') AS outbox`;

export interface DeliveryGaugesRow {
  failed_deliveries: number;
  outbox_pending: number;
  outbox_oldest_seconds: number;
}
