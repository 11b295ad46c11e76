/**
 * Batched UPDATEs of `event_store` that can run at the same time (the publisher recording job ids,
 * workers writing statuses, a re-drive) must lock their rows in one order. An UPDATE locks rows in
 * whatever order its plan visits them (`unnest` order, index order, heap order), so two of them
 * can each hold a row the other waits for: PostgreSQL breaks such a deadlock only after
 * `deadlock_timeout` (1 s by default), by failing one of them. So each of them first locks its rows
 * in id order, with the lock an UPDATE of non-key columns takes (and so no stronger than that).
 *
 * `ids` is the placeholder of a uuid array parameter (e.g. `$1`). The statement that follows joins
 * `locked` and may only update those rows.
 */
export function lockEventRowsInIdOrder(ids: string): string {
  return (
    `WITH locked AS MATERIALIZED (` +
    `SELECT id FROM event_store WHERE id = ANY(${ids}::uuid[]) ORDER BY id FOR NO KEY UPDATE)`
  );
}
