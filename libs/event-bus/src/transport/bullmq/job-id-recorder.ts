/**
 * Records the job ids of enqueued events after `publish` has resolved (DESIGN.md 6.4), so a publish
 * pays what the hand-written code pays: the INSERT and the enqueue. The records of concurrent
 * publishes go out together, one UPDATE at a time; a lone record goes out at once.
 *
 * Losing one strands nothing: the worker's status writes fill a missing job id (status.sql.ts), the
 * relay re-enqueues a `pending` row without one under the same job id (BullMQ keeps one job per id),
 * and lost-job recovery looks at every unfinished row, job id or not.
 */
import type { LoggerService } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { callStore } from '../../store/typeorm/store-availability.js';
import { MARK_ENQUEUED_SQL } from '../outbox/outbox.sql.js';
import { MicroBatcher } from './delivery/micro-batcher.js';

/** The events of one enqueue and their job ids, same order. */
interface JobIdRecord {
  ids: readonly string[];
  jobIds: readonly string[];
}

/** Records (publish batches, up to 500 calls each) per UPDATE at most, so one statement stays small. */
const MAX_RECORDS_PER_UPDATE = 10;

export class JobIdRecorder {
  private readonly batcher: MicroBatcher<JobIdRecord, void>;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: LoggerService,
    /** Deadline of each UPDATE: a PostgreSQL that froze must not keep its connection, nor `close()`, forever. */
    private readonly storeTimeoutMs: number,
  ) {
    this.batcher = new MicroBatcher((records) => this.write(records), { maxBatch: MAX_RECORDS_PER_UPDATE });
  }

  /** Records in the background; never rejects (a failure is logged, and covered as above). */
  record(ids: readonly string[], jobIds: readonly string[]): void {
    if (ids.length === 0) return;
    const written = this.batcher.submit({ ids, jobIds });
    this.pending.add(written);
    void written.finally(() => this.pending.delete(written));
  }

  /** Settles once every record submitted so far is written or given up (each within `storeTimeoutMs`). */
  async drained(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async write(records: readonly JobIdRecord[]): Promise<void[]> {
    const ids = records.flatMap((record) => record.ids);
    const jobIds = records.flatMap((record) => record.jobIds);
    try {
      await callStore(
        this.dataSource,
        undefined,
        (m) => m.query(MARK_ENQUEUED_SQL, [ids, jobIds]),
        this.storeTimeoutMs,
      );
    } catch (error) {
      this.logger.warn(`Could not record the job ids of ${ids.length} enqueued event(s): ${(error as Error).message}`);
    }
    return records.map(() => undefined);
  }
}
