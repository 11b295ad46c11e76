import type { Outbox, OutboxClaim, OutboxListener } from '../../core/ports/outbox.js';
import type { StoredEvent } from '../../events/domain-event.js';
import { toStoredEvent, type InMemoryTables } from './in-memory-tables.js';
import { noTransactionError } from './no-transaction.js';

/** Nothing to listen to: only a commit of the caller's transaction notifies, and there is none. */
const NO_LISTENER: OutboxListener = Object.freeze({
  start: async () => undefined,
  stop: async () => undefined,
});

/**
 * The outbox of the in-memory events: the stored events not dispatched yet (`pending`, no job id),
 * which a relay claims as it claims them in PostgreSQL. Publishing in the caller's transaction is
 * refused by the store, so no commit ever notifies.
 */
export class InMemoryOutbox implements Outbox {
  /** Events a claim is dispatching right now: another claim skips them (`SKIP LOCKED`). */
  private readonly claimed = new Set<string>();

  constructor(private readonly tables: InMemoryTables) {}

  async claimPending(claim: OutboxClaim, dispatch: (events: StoredEvent[]) => Promise<string[]>): Promise<number> {
    const only = claim.ids === undefined ? undefined : new Set(claim.ids);
    const storedBefore = Date.now() - claim.olderThanMs;
    const rows = this.tables.events
      .filter(
        (row) =>
          row.status === 'pending' &&
          row.jobId === null &&
          !this.claimed.has(row.id) &&
          (claim.olderThanMs === 0 || Date.parse(row.createdAt) < storedBefore) &&
          (only === undefined || only.has(row.id)),
      )
      .slice(0, claim.batchSize);
    if (rows.length === 0) return 0;
    for (const row of rows) this.claimed.add(row.id);
    try {
      const jobIds = await dispatch(rows.map((row) => toStoredEvent(row)));
      rows.forEach((row, index) => {
        if (row.jobId === null) this.tables.updateEvent(row, { jobId: jobIds[index] });
      });
      return rows.length;
    } finally {
      for (const row of rows) this.claimed.delete(row.id);
    }
  }

  async oldestPendingAgeMs(): Promise<number | null> {
    const oldest = this.tables.events.find((row) => row.status === 'pending' && row.jobId === null);
    return oldest === undefined ? null : Math.max(0, Date.now() - Date.parse(oldest.createdAt));
  }

  listener(): OutboxListener {
    return NO_LISTENER;
  }

  async notifyOnCommit(): Promise<void> {
    throw noTransactionError();
  }
}
