import { GAP_SAFE_HORIZON } from './gap-safe-visibility.js';
import { ORDERED_BUCKETS } from './ordered-bucket.sql.js';

/**
 * Creates a handler's checkpoints where missing, at the log's start or at its safe end (`'now'`: the
 * horizon, so events of transactions still running are not skipped). `$1`: handler; `$2`: 'now' | 'beginning'.
 */
export const ENSURE_ORDERED_CHECKPOINTS_SQL = `
  INSERT INTO event_bus_ordered_checkpoints (handler, bucket, transaction_id, sequence_number)
  SELECT $1, bucket, CASE WHEN $2 = 'now' THEN (${GAP_SAFE_HORIZON}) ELSE '0'::xid8 END, 0
  FROM generate_series(0, ${ORDERED_BUCKETS - 1}) AS bucket
  ON CONFLICT (handler, bucket) DO NOTHING`;
