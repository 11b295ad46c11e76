/** Gives an owner's buckets back at once and ends its membership (a graceful stop). `$1`: handler; `$2`: owner. */
export const RELEASE_ORDERED_BUCKETS_SQL = `
  WITH gone AS (DELETE FROM event_bus_ordered_members WHERE handler = $1 AND owner = $2)
  UPDATE event_bus_ordered_checkpoints SET owner = NULL, lease_until = NULL
  WHERE handler = $1 AND owner = $2`;

/**
 * Gives one bucket back (beyond the owner's fair share, its keys idle), only under the lease held.
 * `$1`: handler; `$2`: bucket; `$3`: owner; `$4`: epoch.
 */
export const RELEASE_ORDERED_BUCKET_SQL = `
  UPDATE event_bus_ordered_checkpoints SET owner = NULL, lease_until = NULL
  WHERE handler = $1 AND bucket = $2 AND owner = $3 AND epoch = $4`;
