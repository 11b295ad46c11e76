/** Gives an owner's buckets back at once (a graceful stop). `$1`: handler; `$2`: owner. */
export const RELEASE_ORDERED_BUCKETS_SQL = `
  UPDATE event_bus_ordered_checkpoints SET owner = NULL, lease_until = NULL
  WHERE handler = $1 AND owner = $2`;
