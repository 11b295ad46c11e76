import type { DataSource } from 'typeorm';
import type { EventStatuses, JobIdRecords } from '../../core/ports/delivery-records.js';
import { MARK_PROCESSED_SQL } from './schema/mark-processed.sql.js';
import { MARK_PROCESSING_SQL } from './schema/mark-processing.sql.js';
import { MARK_ENQUEUED_SQL } from './schema/record-job-ids.sql.js';
import { callStore } from './store-availability.js';

/**
 * The batched UPDATEs of `event_store` that delivery makes: job ids after publish, and the statuses
 * of the happy path. Each locks its rows in id order first (schema/row-lock-order.sql.ts), since they
 * touch the same events at the same time.
 */
export class TypeOrmEventStatuses implements EventStatuses, JobIdRecords {
  constructor(
    private readonly dataSource: DataSource,
    /** Deadline of the job-id record: a PostgreSQL that froze must not keep its connection forever. */
    private readonly storeTimeoutMs: number,
  ) {}

  async recordJobIds(ids: readonly string[], jobIds: readonly string[]): Promise<void> {
    await callStore(this.dataSource, undefined, (m) => m.query(MARK_ENQUEUED_SQL, [ids, jobIds]), this.storeTimeoutMs);
  }

  async markProcessing(ids: readonly string[], jobIds: readonly string[]): Promise<ReadonlySet<string>> {
    // TypeORM's PostgreSQL driver answers an UPDATE with `[rows, affectedCount]`.
    const [rows]: [Array<{ id: string }>, number] = await this.dataSource.query(MARK_PROCESSING_SQL, [ids, jobIds]);
    return new Set(rows.map((row) => row.id));
  }

  async markProcessed(ids: readonly string[], jobIds: readonly string[]): Promise<void> {
    await this.dataSource.query(MARK_PROCESSED_SQL, [ids, jobIds]);
  }
}
