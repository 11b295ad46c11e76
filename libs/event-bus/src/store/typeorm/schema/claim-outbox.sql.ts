import { storedEventColumns } from './stored-event.mapper.js';

/**
 * Claims un-enqueued rows (the outbox: see notify-outbox.sql.ts) in sequence order; rows another
 * relay holds are skipped, so relays in many processes share the work and none enqueues a row
 * another one is enqueueing.
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
