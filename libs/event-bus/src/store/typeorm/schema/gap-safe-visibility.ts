/**
 * Gap-safe reading. A sequence number is handed out when a row is inserted, but the row becomes
 * visible when its transaction commits, so a reader paging by `sequence_number` could see 11 and
 * move past 10 whose transaction commits a moment later. Each row records its transaction
 * (`transaction_id xid8 DEFAULT pg_current_xact_id()`), and paging readers look only below the
 * horizon, the oldest transaction still running: every row there is final (committed and
 * visible, or rolled back), and every row that becomes visible later has a transaction id at or
 * above it.
 *
 * The horizon alone is not enough when readers page by sequence number, because transaction-id
 * order is not sequence order: a transaction gets its id at its first write, its sequence numbers
 * at each insert. T1 (id 100, from an earlier write) inserts #11 after T2 (id 101) inserted #10;
 * T1 commits; the horizon is 101, so #11 is below it and #10 is not, and a reader that moves its
 * cursor to 11 never gets 10 once T2 commits. Even two single-statement inserts interleave this way
 * (the sequence default is evaluated before the transaction id is assigned).
 *
 * So there are two shapes:
 *
 * - `stream()` (and replay, built on it) pages by the pair `(transaction_id, sequence_number)`:
 *   `(transaction_id, sequence_number) > (last) AND transaction_id < horizon ORDER BY
 *   transaction_id, sequence_number`. Everything below the horizon is final, and whatever becomes
 *   visible later has a transaction id ≥ that horizon > the cursor's: nothing is ever left behind.
 *   Within one transaction, and along any causal chain (A commits, then B is written), this is
 *   sequence order; only events of concurrent transactions may come in an order other than their
 *   sequence numbers, and that order is the one in which they became safe to read. The
 *   `event_store_transaction_sequence_idx` index (a second migration) serves it.
 * - The one-shot pages of `query()` and the `get…` methods expose a sequence-number cursor
 *   (`afterSequence`), so they stay in sequence order and stop before the first matching row that
 *   is not below the horizon: a visible row still above it could otherwise be passed now and
 *   fall below the caller's cursor later. What remains cannot be closed with a sequence cursor:
 *   a row whose transaction has not committed yet is invisible to every reader, so a page can
 *   return #11 while #10 is still uncommitted (the inversion above), and a caller that moves its
 *   cursor to 11 skips 10. A complete read, in order, of everything is `stream()`.
 *
 * A sequence cursor can be made exact only by recording, per row, an upper bound of the transaction
 * ids assigned before its sequence number (a snapshot's `xmax` taken after the insert, with the
 * transaction id forced before the sequence number): a row is then safe once the horizon passes
 * its bound. That costs the publish path two extra statements per batch (one of them a round trip
 * the single-event publish saves today), or an UPDATE per row; and under REPEATABLE READ a
 * caller's transaction keeps its first snapshot, so the bound cannot be taken in its transaction
 * at all. The pair order gives the same guarantee to the reader that needs it at no cost to
 * writers, so the store does not record it.
 *
 * The plain horizon, `pg_snapshot_xmin(pg_current_snapshot())`, is cluster-wide: a transaction
 * left open in any database of the server would hold every paging reader back. Only a transaction
 * connected to this database can write this table, so the horizon here is the oldest transaction
 * of the statement's snapshot that is still running (`pg_snapshot_xip`, or `xmax` when none is),
 * leaving out those positively known to belong to a backend of another database
 * (`pg_stat_get_activity`, whose `datid` and `backend_xid` every role may read). A transaction that
 * cannot be placed — it ended since the snapshot, it is a prepared one, its backend is no longer
 * listed — counts as this database's, so the horizon is never later than it should be, only at
 * worst as early as the cluster-wide one. Evaluated once per statement (an InitPlan); written with
 * `ORDER BY … LIMIT 1` because `min(xid8)` needs PostgreSQL 14.
 */
export const GAP_SAFE_HORIZON = `coalesce(
  (SELECT running.xid FROM pg_snapshot_xip(pg_current_snapshot()) AS running (xid)
   WHERE NOT EXISTS (
     SELECT FROM pg_stat_get_activity(NULL) AS backend
     WHERE backend.backend_xid = xid(running.xid)
       AND backend.datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))
   ORDER BY running.xid LIMIT 1),
  pg_snapshot_xmax(pg_current_snapshot()))`;

/** The gap-safe condition for a table alias, e.g. `gapSafeVisibility('e')` in a join. */
export function gapSafeVisibility(alias?: string): string {
  return `${alias ? `${alias}.` : ''}transaction_id < ${GAP_SAFE_HORIZON}`;
}

export const GAP_SAFE_VISIBILITY = gapSafeVisibility();
