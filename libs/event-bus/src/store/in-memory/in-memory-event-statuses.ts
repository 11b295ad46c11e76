import type { EventStatuses, JobIdRecords } from '../../core/ports/delivery-records.js';
import type { EventStatus } from '../../events/domain-event.js';
import type { InMemoryTables } from './in-memory-tables.js';

/**
 * The status and job-id writes of delivery on the in-memory events, with the conditions of their
 * SQL (store/typeorm/schema/mark-*.sql.ts, record-job-ids.sql.ts): a recorded job id is kept, and
 * only rows in the expected statuses move.
 */
export class InMemoryEventStatuses implements EventStatuses, JobIdRecords {
  constructor(private readonly tables: InMemoryTables) {}

  async recordJobIds(ids: readonly string[], jobIds: readonly string[]): Promise<void> {
    ids.forEach((id, index) => {
      const row = this.tables.event(id);
      if (row && row.jobId === null) this.tables.updateEvent(row, { jobId: jobIds[index] });
    });
  }

  async markProcessing(ids: readonly string[], jobIds: readonly string[]): Promise<ReadonlySet<string>> {
    return this.move(ids, jobIds, ['pending'], 'processing');
  }

  async markProcessed(ids: readonly string[], jobIds: readonly string[]): Promise<void> {
    this.move(ids, jobIds, ['pending', 'processing'], 'processed');
  }

  /** Moves the rows in one of `from` to `to`, recording a missing job id; returns the ids that moved. */
  private move(
    ids: readonly string[],
    jobIds: readonly string[],
    from: readonly EventStatus[],
    to: EventStatus,
  ): Set<string> {
    const moved = new Set<string>();
    ids.forEach((id, index) => {
      const row = this.tables.event(id);
      if (!row || !from.includes(row.status)) return;
      this.tables.updateEvent(row, { status: to, jobId: row.jobId ?? jobIds[index] });
      moved.add(id);
    });
    return moved;
  }
}
