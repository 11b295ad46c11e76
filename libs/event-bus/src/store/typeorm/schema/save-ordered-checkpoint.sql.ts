/**
 * Moves a bucket's checkpoint forward, only for the lease holder; answers whether the lease is held.
 * `$1`: handler; `$2`: bucket; `$3`: owner; `$4`: epoch; `$5`, `$6`: the position.
 */
export const SAVE_ORDERED_CHECKPOINT_SQL = `
  WITH lease AS (
    SELECT FROM event_bus_ordered_checkpoints
    WHERE handler = $1 AND bucket = $2 AND owner = $3 AND epoch = $4
  ), moved AS (
    UPDATE event_bus_ordered_checkpoints
    SET transaction_id = $5::xid8, sequence_number = $6, updated_at = now()
    WHERE handler = $1 AND bucket = $2 AND owner = $3 AND epoch = $4
      AND (transaction_id, sequence_number) < ($5::xid8, $6::bigint)
    RETURNING 1
  )
  SELECT EXISTS (SELECT FROM lease) AS held`;
