/**
 * Records the job ids of enqueued events after `publish` has resolved (DESIGN.md 6.4), so a publish
 * pays what the hand-written code pays: the INSERT and the enqueue. The records of concurrent
 * publishes go out together, one UPDATE at a time; a lone record goes out at once.
 *
 * Losing one strands nothing: the worker's status writes fill a missing job id, the
 * relay re-enqueues a `pending` row without one under the same job id (BullMQ keeps one job per id),
 * and lost-job recovery looks at every unfinished row, job id or not.
 */
import type { LoggerService } from '@nestjs/common';
import { MicroBatcher } from '../shared/micro-batcher.js';
import type { JobIdRecords } from './ports/delivery-records.js';

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
    /** Each write is bounded by the store's deadline: a PostgreSQL that froze must not hold `close()` forever. */
    private readonly records: JobIdRecords,
    private readonly logger: LoggerService,
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

  /** Settles once every record submitted so far is written or given up (each within the store's deadline). */
  async drained(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async write(records: readonly JobIdRecord[]): Promise<void[]> {
    const ids = records.flatMap((record) => record.ids);
    const jobIds = records.flatMap((record) => record.jobIds);
    try {
      await this.records.recordJobIds(ids, jobIds);
    } catch (error) {
      this.logger.warn(`Could not record the job ids of ${ids.length} enqueued event(s): ${(error as Error).message}`);
    }
    return records.map(() => undefined);
  }
}
