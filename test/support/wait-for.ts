/** Polling with a deadline: tests wait for an outcome instead of sleeping for a guessed time. */
export interface WaitForOptions {
  /** @default 10000 */
  timeoutMs?: number;
  /** @default 50 */
  intervalMs?: number;
  /** Says what was awaited; it becomes the error message on timeout. */
  message?: string;
}

/**
 * Calls `probe` until it returns a truthy value (resolved with it) or the deadline passes (throws
 * with `message`). A probe that throws counts as "not yet"; its last error is kept as the cause.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 50, message = 'condition' }: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for: ${message}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
