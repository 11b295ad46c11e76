/**
 * Coalesces concurrent calls into batches: the first call flushes at once (on the next microtask,
 * so calls made in the same tick join it), and calls arriving while a flush is in flight join the
 * next one. One round trip per batch at high load, no added wait at low load.
 *
 * Hand-written because neither BullMQ nor TypeORM batches independent writes of concurrent jobs.
 */
export class MicroBatcher<I, O> {
  private waiting: Array<{ item: I; resolve: (result: O) => void; reject: (error: unknown) => void }> = [];
  private running = false;

  /** `flush` returns one result per item, in the order given. */
  constructor(
    private readonly flush: (items: readonly I[]) => Promise<readonly O[]>,
    private readonly maxBatch = 1000,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatch);
      try {
        const results = await this.flush(batch.map((entry) => entry.item));
        batch.forEach((entry, index) => entry.resolve(results[index]));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
    }
    this.running = false;
  }
}
