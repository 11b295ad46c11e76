/**
 * The deliveries an in-memory bus has under way, so that a test (or `close()`) can wait until every
 * one of them, and whatever they started in turn, has settled.
 */
export class WorkTracker {
  private readonly running = new Map<Promise<void>, string>();

  /** Follows `work` until it settles; `what` names it in the message of an idle wait that ran out. */
  track(what: string, work: Promise<void>): void {
    const tracked: Promise<void> = work
      .catch(() => undefined)
      .finally(() => {
        this.running.delete(tracked);
      });
    this.running.set(tracked, what);
  }

  get size(): number {
    return this.running.size;
  }

  /** What is still running, for error messages. */
  describe(): string[] {
    return [...this.running.values()];
  }

  /**
   * Resolves true once nothing runs, including work started while waiting (a handler that publishes);
   * false if work is still running after `timeoutMs`.
   */
  async idle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, left)));
      try {
        await Promise.race([Promise.allSettled([...this.running.keys()]), timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
    return true;
  }
}
