import { orderedBucketOf } from './ordered-bucket.sql.js';

/**
 * Where an ordered handler stands: its lowest checkpoint, the events of its types after each bucket's
 * checkpoint (its lag: an upper bound, as keys may have handled some beyond the checkpoint), the
 * events it parked, and the owners whose leases run. `$1`: handler; `$2`: the type regex.
 */
export const ORDERED_STANDING_SQL = `
  WITH checkpoints AS (
    SELECT bucket, transaction_id, sequence_number, owner, lease_until
    FROM event_bus_ordered_checkpoints WHERE handler = $1
  ), lowest AS (
    SELECT transaction_id, sequence_number FROM checkpoints ORDER BY transaction_id, sequence_number LIMIT 1
  )
  SELECT
    (SELECT transaction_id::text FROM lowest) AS transaction_id,
    (SELECT sequence_number FROM lowest) AS sequence_number,
    (SELECT count(*) FROM event_store e, lowest
      WHERE (e.transaction_id, e.sequence_number) > (lowest.transaction_id, lowest.sequence_number)
        AND ('.' || e.event_type) ~ $2
        AND (e.transaction_id, e.sequence_number) > (
          SELECT c.transaction_id, c.sequence_number FROM checkpoints c WHERE c.bucket = ${orderedBucketOf('e')})
    ) AS lag,
    (SELECT coalesce(sum(parked), 0) FROM event_bus_ordered_keys WHERE handler = $1) AS parked,
    (SELECT coalesce(array_agg(DISTINCT owner ORDER BY owner), '{}') FROM checkpoints
      WHERE owner IS NOT NULL AND lease_until > now()) AS owners`;
