/**
 * The reads of lost-job recovery's walk over unfinished events (`pending` or `processing`, job id
 * recorded or not): only the columns it needs to decide; the few events it must re-enqueue are read
 * whole (load-unfinished.sql.ts). No index filters on `status` (status updates stay HOT, see the
 * make-status-updates-hot migration), so the walk keeps its cursor near the newest events.
 */

/** `stale`: older than the parameter `ms` (milliseconds; 0: every row is). */
function unfinishedColumns(ms: string): string {
  return `id, sequence_number, status, job_id,
    (${ms}::int = 0 OR created_at < now() - ${ms}::int * interval '1 millisecond') AS stale`;
}

/** A row of the reads below, as `pg` returns it. */
export interface UnfinishedRow {
  id: string;
  sequence_number: string;
  status: 'pending' | 'processing';
  job_id: string | null;
  stale: boolean;
}

/** Oldest first, from a keyset cursor. `$1`: after this sequence number; `$2`: batch size; `$3`: the age in ms that makes a row `stale`. */
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
