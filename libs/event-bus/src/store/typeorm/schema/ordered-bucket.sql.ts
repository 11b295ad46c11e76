/**
 * The hash bucket of an event's partition key (tenant + workflow; `''` for events without one), in
 * SQL so the ordered reader filters its owned buckets in the database. Ownership is per bucket, not
 * per key: a fixed number of leases, however many workflows there are.
 */
export const ORDERED_BUCKETS = 16;

export function orderedBucketOf(alias: string): string {
  return `((hashtextextended(${alias}.tenant_id::text || '/' || coalesce(${alias}.workflow_id, ''), 0) & 65535) % ${ORDERED_BUCKETS})::int`;
}
