/**
 * The waits between a handler's attempts in the in-memory bus. By default they take no time (a test
 * should not sleep through a backoff); with `realDelays` they last what the retry policy computed.
 * Either way `cancel()` (on `close()`) ends every wait at once, and the delivery stops there, as a
 * delayed retry job would stay in the queue of a bus that shut down.
 */
export class RetryWaits {
  private readonly pending = new Map<NodeJS.Timeout, () => void>();
  private cancelled = false;

  constructor(private readonly realDelays: boolean) {}

  /** Resolves true when the wait ran out, false when it was cancelled. */
  wait(delayMs: number): Promise<boolean> {
    if (this.cancelled) return Promise.resolve(false);
    // Even an instant retry yields to the event loop first, as a queue would: other work goes on meanwhile.
    const ms = this.realDelays ? delayMs : 0;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve(!this.cancelled);
      }, ms);
      this.pending.set(timer, () => resolve(false));
    });
  }

  cancel(): void {
    this.cancelled = true;
    for (const [timer, stop] of this.pending) {
      clearTimeout(timer);
      stop();
    }
    this.pending.clear();
  }
}
