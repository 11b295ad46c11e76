import type { DataSource } from 'typeorm';
import { MicroBatcher } from './micro-batcher.js';
import { MARK_PROCESSED_SQL, MARK_PROCESSING_SQL } from './status.sql.js';

/**
 * The happy path's status writes, batched across the jobs a worker runs concurrently: one UPDATE
 * per batch instead of one per event (status.sql.ts). Each job awaits its own write before it
 * completes, so a completed job always has its status committed.
 */
export class StatusWriter {
  private readonly processing: MicroBatcher<string, boolean>;
  private readonly processed: MicroBatcher<string, void>;

  constructor(dataSource: DataSource) {
    this.processing = new MicroBatcher(async (ids) => {
      // The caller must know which rows were not `pending` (re-deliveries: it then looks at the
      // handler records instead of running everything again). TypeORM's PostgreSQL driver answers
      // an UPDATE with `[rows, affectedCount]`.
      const [rows]: [Array<{ id: string }>, number] = await dataSource.query(MARK_PROCESSING_SQL, [ids]);
      const moved = new Set(rows.map((row) => row.id));
      return ids.map((id) => moved.has(id));
    });
    this.processed = new MicroBatcher<string, void>(async (ids) => {
      await dataSource.query(MARK_PROCESSED_SQL, [ids]);
      return ids.map(() => undefined);
    });
  }

  /** `pending` → `processing`. Resolves true when the row was `pending` (a first delivery). */
  markProcessing(eventId: string): Promise<boolean> {
    return this.processing.submit(eventId);
  }

  /** `pending`/`processing` → `processed`, for an event whose handlers all succeeded on their first try. */
  markProcessed(eventId: string): Promise<void> {
    return this.processed.submit(eventId);
  }
}
