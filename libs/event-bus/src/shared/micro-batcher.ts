export interface MicroBatcherOptions {
  /** Items per batch at most. @default 1000 */
  maxBatch?: number;
  /**
   * Batches in flight at once. With one, items that arrive during a flush wait for all of it; with
   * two, a batch's first round trips overlap the last ones of the batch before. @default 1
   */
  maxInFlight?: number;
}

/**
 * Coalesces concurrent calls into batches: the first call flushes at once (on the next microtask,
 * so calls made in the same tick join it), and calls arriving while `maxInFlight` batches are in
 * flight join the next one. One round trip per batch at high load, no added wait at low load.
 *
 * Hand-written because neither BullMQ nor TypeORM batches independent writes of concurrent jobs.
 */
export class MicroBatcher<I, O> {
  private waiting: Array<{ item: I; resolve: (result: O) => void; reject: (error: unknown) => void }> = [];
  /** Drain loops running; each has one batch in flight at a time. */
  private draining = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  /** `flush` returns one result per item, in the order given. */
  constructor(
    private readonly flush: (items: readonly I[]) => Promise<readonly O[]>,
    { maxBatch = 1000, maxInFlight = 1 }: MicroBatcherOptions = {},
  ) {
    this.maxBatch = maxBatch;
    this.maxInFlight = maxInFlight;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.scheduled || this.draining >= this.maxInFlight) return;
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        void this.drain();
      });
    });
  }

  private async drain(): Promise<void> {
    this.draining++;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.maxBatch);
        try {
          const results = await this.flush(batch.map((entry) => entry.item));
          batch.forEach((entry, index) => entry.resolve(results[index]));
        } catch (error) {
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      this.draining--;
    }
  }
}
