import { GAP_SAFE_HORIZON } from './gap-safe-visibility.js';
import { ORDERED_BUCKETS } from './ordered-bucket.sql.js';

/**
 * Moves every checkpoint of a handler to the start of the log, or to just before the first event (in
 * commit-safe order) whose timestamp is at or after a date, and frees the buckets under a new epoch:
 * owners drop what they hold and claim them again from there. Creates the checkpoints if missing.
 * `$1`: handler; `$2`: the date, or null for the beginning.
 */
export const RESET_ORDERED_CHECKPOINTS_SQL = `
  WITH target AS (
    SELECT coalesce(
      (SELECT (transaction_id, sequence_number - 1)::text FROM event_store
        WHERE $2::timestamptz IS NOT NULL AND timestamp >= $2::timestamptz
        ORDER BY transaction_id, sequence_number LIMIT 1),
      CASE WHEN $2::timestamptz IS NULL THEN '(0,0)' ELSE '(' || (${GAP_SAFE_HORIZON})::text || ',0)' END
    ) AS position
  ), parsed AS (
    SELECT split_part(trim(both '()' from position), ',', 1)::xid8 AS transaction_id,
      split_part(trim(both '()' from position), ',', 2)::bigint AS sequence_number
    FROM target
  )
  INSERT INTO event_bus_ordered_checkpoints (handler, bucket, transaction_id, sequence_number)
  SELECT $1, bucket, parsed.transaction_id, parsed.sequence_number
  FROM generate_series(0, ${ORDERED_BUCKETS - 1}) AS bucket, parsed
  ON CONFLICT (handler, bucket) DO UPDATE SET
    transaction_id = EXCLUDED.transaction_id, sequence_number = EXCLUDED.sequence_number,
    owner = NULL, lease_until = NULL, epoch = event_bus_ordered_checkpoints.epoch + 1, updated_at = now()`;

/** Forgets the keys' progress of a handler (with the reset, in its transaction). `$1`: handler. */
export const FORGET_KEY_PROGRESS_SQL = `DELETE FROM event_bus_ordered_keys WHERE handler = $1`;
