import { GAP_SAFE_HORIZON } from './gap-safe-visibility.js';
import { orderedBucketOf } from './ordered-bucket.sql.js';
import { storedEventColumns } from './stored-event.mapper.js';

/**
 * One page of an ordered handler's log: events after a position, in the buckets it owns, of the types
 * its patterns match, in commit-safe order below the horizon (gap-safe-visibility.ts).
 * `$1`, `$2`: the position; `$3`: the type regex (ordered/type-regex.ts); `$4`: the buckets; `$5`: the limit.
 */
export const READ_ORDERED_PAGE_SQL = `
  SELECT ${storedEventColumns('e')}, e.transaction_id::text AS transaction_id, ${orderedBucketOf('e')} AS bucket
  FROM event_store e
  WHERE (e.transaction_id, e.sequence_number) > ($1::xid8, $2::bigint)
    AND e.transaction_id < (${GAP_SAFE_HORIZON})
    AND ('.' || e.event_type) ~ $3
    AND ${orderedBucketOf('e')} = ANY($4::int[])
  ORDER BY e.transaction_id, e.sequence_number
  LIMIT $5`;
