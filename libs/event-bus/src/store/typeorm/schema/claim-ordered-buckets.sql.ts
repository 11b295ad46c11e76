/**
 * Renews the owner's leases and takes free or expired buckets up to a total, in one statement. A
 * bucket taken from another owner (or freed by a reset) gets a new epoch, which fences the writes
 * of whoever held it before. `SKIP LOCKED`: two processes claiming at once take different buckets.
 * `$1`: handler; `$2`: owner; `$3`: lease in ms; `$4`: most buckets to hold.
 */
export const CLAIM_ORDERED_BUCKETS_SQL = `
  WITH mine AS (
    UPDATE event_bus_ordered_checkpoints
    SET lease_until = now() + $3 * interval '1 millisecond'
    WHERE handler = $1 AND owner = $2
    RETURNING bucket, epoch, transaction_id::text AS transaction_id, sequence_number
  ), free AS (
    SELECT bucket FROM event_bus_ordered_checkpoints
    WHERE handler = $1 AND owner IS DISTINCT FROM $2 AND (owner IS NULL OR lease_until <= now())
    ORDER BY bucket
    LIMIT greatest($4 - (SELECT count(*) FROM mine), 0)
    FOR UPDATE SKIP LOCKED
  ), taken AS (
    UPDATE event_bus_ordered_checkpoints AS c
    SET owner = $2, lease_until = now() + $3 * interval '1 millisecond', epoch = c.epoch + 1
    FROM free WHERE c.handler = $1 AND c.bucket = free.bucket
    RETURNING c.bucket, c.epoch, c.transaction_id::text AS transaction_id, c.sequence_number
  )
  SELECT * FROM mine UNION ALL SELECT * FROM taken`;
