/**
 * One heartbeat of an ordered handler's consumer, in one statement: records the process as a member
 * (until its lease would end), renews its leases, and takes free or expired buckets up to its fair
 * share: the bucket count over the live members, rounded up. A bucket taken from another owner (or
 * freed by a reset) gets a new epoch, which fences the writes of whoever held it before. `SKIP
 * LOCKED`: two processes claiming at once take different buckets. Members gone for a minute are
 * forgotten. Answers the buckets held and the share (on every row).
 * `$1`: handler; `$2`: owner; `$3`: lease in ms; `$4`: the bucket count.
 */
export const CLAIM_ORDERED_BUCKETS_SQL = `
  WITH member AS (
    INSERT INTO event_bus_ordered_members (handler, owner, seen_until)
    VALUES ($1, $2, now() + $3 * interval '1 millisecond')
    ON CONFLICT (handler, owner) DO UPDATE SET seen_until = EXCLUDED.seen_until
    RETURNING owner
  ), forgotten AS (
    DELETE FROM event_bus_ordered_members
    WHERE handler = $1 AND owner <> $2 AND seen_until < now() - interval '1 minute'
  ), share AS (
    SELECT ceil($4::numeric / (1 + (
      SELECT count(*) FROM event_bus_ordered_members
      WHERE handler = $1 AND owner <> $2 AND seen_until > now())))::int AS buckets
  ), mine AS (
    UPDATE event_bus_ordered_checkpoints
    SET lease_until = now() + $3 * interval '1 millisecond'
    WHERE handler = $1 AND owner = $2
    RETURNING bucket, epoch, transaction_id::text AS transaction_id, sequence_number
  ), free AS (
    SELECT bucket FROM event_bus_ordered_checkpoints
    WHERE handler = $1 AND owner IS DISTINCT FROM $2 AND (owner IS NULL OR lease_until <= now())
    ORDER BY bucket
    LIMIT greatest((SELECT buckets FROM share) - (SELECT count(*) FROM mine), 0)
    FOR UPDATE SKIP LOCKED
  ), taken AS (
    UPDATE event_bus_ordered_checkpoints AS c
    SET owner = $2, lease_until = now() + $3 * interval '1 millisecond', epoch = c.epoch + 1
    FROM free WHERE c.handler = $1 AND c.bucket = free.bucket
    RETURNING c.bucket, c.epoch, c.transaction_id::text AS transaction_id, c.sequence_number
  )
  SELECT held.*, (SELECT buckets FROM share) AS share
  FROM (SELECT * FROM mine UNION ALL SELECT * FROM taken) AS held`;
