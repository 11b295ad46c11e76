/** The delay before the next attempt, computed from the attempt that just failed (counting from 1). */
export type BackoffFunction = (attempt: number, error: Error) => number;

export interface BackoffOptions {
  /** `fixed` waits `delay` every time; `exponential` waits `delay × 2^(attempt−1)`. */
  type: 'fixed' | 'exponential';
  /** Base delay in milliseconds. */
  delay: number;
  /** Upper bound of any single delay, in milliseconds. */
  maxDelay?: number;
  /** 0–1: takes up to this fraction off each delay at random, so retries of many events spread out. */
  jitter?: number;
}

/** How often and how patiently one handler is retried. The waits live in Redis (delayed jobs), not in timers. */
export interface RetryPolicy {
  /** Attempts in total, counting the first try. */
  maxAttempts: number;
  backoff: BackoffOptions | BackoffFunction;
}

/** With no policy anywhere: 3 attempts, exponential from 1 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  backoff: Object.freeze<BackoffOptions>({ type: 'exponential', delay: 1000 }),
});
