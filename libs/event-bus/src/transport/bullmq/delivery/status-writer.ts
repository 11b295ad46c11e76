import type { EventStatuses } from '../../../core/ports/delivery-records.js';
import { MicroBatcher } from '../../../shared/micro-batcher.js';

/** One status write: the event, and the id of the event job delivering it (recorded if missing). */
interface StatusWrite {
  eventId: string;
  jobId: string;
}

/**
 * The happy path's status writes, batched across the jobs a worker runs concurrently: one UPDATE
 * per batch instead of one per event (the store's `EventStatuses`). Each job awaits its own write
 * before it completes, so a completed job always has its status committed.
 */
export class StatusWriter {
  private readonly processing: MicroBatcher<StatusWrite, boolean>;
  private readonly processed: MicroBatcher<StatusWrite, void>;

  constructor(statuses: EventStatuses) {
    this.processing = new MicroBatcher(async (writes) => {
      const ids = writes.map((write) => write.eventId);
      // The caller must know which rows were not `pending` (re-deliveries: it then looks at the
      // handler records instead of running everything again).
      const moved = await statuses.markProcessing(
        ids,
        writes.map((write) => write.jobId),
      );
      return ids.map((id) => moved.has(id));
    });
    this.processed = new MicroBatcher<StatusWrite, void>(async (writes) => {
      await statuses.markProcessed(
        writes.map((write) => write.eventId),
        writes.map((write) => write.jobId),
      );
      return writes.map(() => undefined);
    });
  }

  /** `pending` → `processing`. Resolves true when the row was `pending` (a first delivery). */
  markProcessing(eventId: string, jobId: string): Promise<boolean> {
    return this.processing.submit({ eventId, jobId });
  }

  /** `pending`/`processing` → `processed`, for an event whose handlers all succeeded on their first try. */
  markProcessed(eventId: string, jobId: string): Promise<void> {
    return this.processed.submit({ eventId, jobId });
  }
}
