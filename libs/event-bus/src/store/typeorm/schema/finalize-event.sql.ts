/**
 * Finishes the event once none of its handler deliveries is still `retrying`: `failed` when one of
 * them failed, `processed` otherwise. One statement, so two workers finishing sibling handlers at the
 * same moment agree: each runs it after committing its own record, and the later of the two sees
 * both records. The event job's id is recorded too when it is missing (see mark-processing.sql.ts).
 * `$1`: event id, `$2`: the event job's id.
 */
export const FINALIZE_EVENT_SQL = `
  UPDATE event_store e SET status = CASE
    WHEN EXISTS (SELECT 1 FROM event_handler_deliveries d WHERE d.event_id = e.id AND d.status = 'failed')
    THEN 'failed' ELSE 'processed' END,
    job_id = coalesce(e.job_id, $2)
  WHERE e.id = $1
    AND e.status IN ('pending', 'processing')
    AND NOT EXISTS (
      SELECT 1 FROM event_handler_deliveries d WHERE d.event_id = e.id AND d.status = 'retrying')`;
