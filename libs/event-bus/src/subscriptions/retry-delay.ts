import { computeBackoffDelay } from './backoff.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy.js';

/**
 * The policy's delay before the next attempt. A backoff function that throws must not strand the
 * delivery (inside a queue's failure handling a throw would leave the job in limbo): the built-in
 * default policy's delay is used instead, and `onError` hears about it. Every transport waits this.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  error: Error,
  onError?: (failure: unknown) => void,
): number {
  try {
    return computeBackoffDelay(policy, attempt, error);
  } catch (failure) {
    onError?.(failure);
    return computeBackoffDelay(DEFAULT_RETRY_POLICY, attempt, error);
  }
}
