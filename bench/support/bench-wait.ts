/** Polling with a deadline: how a benchmark waits for "every event processed" without sleeping blindly. */
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitUntilOptions {
  timeoutMs: number;
  /** Pause between checks; short, because it bounds the error of the measured end time. */
  intervalMs?: number;
  /** Says what did not happen, for the error thrown at the deadline. */
  message: string | (() => string | Promise<string>);
}

export async function waitUntil(check: () => boolean | Promise<boolean>, options: WaitUntilOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      const message = typeof options.message === 'string' ? options.message : await options.message();
      throw new Error(`Timed out after ${options.timeoutMs} ms: ${message}`);
    }
    await delay(options.intervalMs ?? 10);
  }
}

/** Resolves when `count()` reaches `target`, i.e. every event of a batch has been seen. */
export function waitForCount(count: () => number, target: number, timeoutMs: number, what: string): Promise<void> {
  return waitUntil(() => count() >= target, {
    timeoutMs,
    intervalMs: 5,
    message: () => `${what}: ${count()} of ${target}`,
  });
}
