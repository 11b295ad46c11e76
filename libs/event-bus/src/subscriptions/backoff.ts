import { EventBusConfigurationError } from '../shared/errors.js';
import { describeValue } from '../shared/describe-value.js';
import type { BackoffOptions, RetryPolicy } from './retry-policy.js';

/**
 * Retry policy checks and backoff math. The delays computed here become BullMQ delayed jobs
 * (through the worker's `backoffStrategy`), so the waits live in the queue, not in timers.
 */

/**
 * Upper bound of any single delay: about 24.8 days, the largest delay a Node timer accepts.
 * It keeps exponential growth without `maxDelay` (and a function returning `Infinity`) a usable number.
 */
export const MAX_BACKOFF_DELAY_MS = 2_147_483_647;

/**
 * Checks a retry policy given by a user and returns it typed.
 * Throws `EventBusConfigurationError` naming the offending field, e.g. `defaultRetry.backoff.delay`.
 */
export function validateRetryPolicy(policy: unknown, optionName: string): RetryPolicy {
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    fail(optionName, 'must be an object { maxAttempts, backoff }', policy);
  }
  const { maxAttempts, backoff } = policy as Record<string, unknown>;
  if (typeof maxAttempts !== 'number' || !Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    fail(
      `${optionName}.maxAttempts`,
      'must be a positive integer (attempts in total, counting the first try)',
      maxAttempts,
    );
  }
  if (typeof backoff === 'function') return policy as RetryPolicy;
  if (typeof backoff !== 'object' || backoff === null || Array.isArray(backoff)) {
    fail(
      `${optionName}.backoff`,
      "must be { type: 'fixed' | 'exponential', delay, maxDelay?, jitter? } or a function",
      backoff,
    );
  }
  validateBackoffOptions(backoff as Record<string, unknown>, `${optionName}.backoff`);
  return policy as RetryPolicy;
}

function validateBackoffOptions(backoff: Record<string, unknown>, option: string): void {
  const { type, delay, maxDelay, jitter } = backoff;
  if (type !== 'fixed' && type !== 'exponential') {
    fail(`${option}.type`, "must be 'fixed' or 'exponential'", type);
  }
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
    fail(`${option}.delay`, 'must be a finite number of milliseconds >= 0', delay);
  }
  if (maxDelay !== undefined && (typeof maxDelay !== 'number' || !Number.isFinite(maxDelay) || maxDelay < delay)) {
    fail(`${option}.maxDelay`, `must be a finite number of milliseconds >= delay (${delay})`, maxDelay);
  }
  if (jitter !== undefined && (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1))) {
    fail(`${option}.jitter`, 'must be a number between 0 and 1', jitter);
  }
}

function fail(option: string, message: string, value: unknown): never {
  throw new EventBusConfigurationError(option, `${message}, got ${describeValue(value)}`);
}

/**
 * The delay in whole milliseconds before the next attempt of a handler.
 *
 * - `attempt` is the attempt that just failed, counting from 1.
 * - `fixed`: `delay`. `exponential`: `delay × 2^(attempt−1)`, capped by `maxDelay`.
 * - `jitter` j takes up to that fraction off at random: `d × (1 − j × random())`.
 * - A function policy's result is used as is, clamped rather than rejected, because this runs
 *   inside the worker's backoff strategy where a throw would strand the job: a negative result
 *   becomes 0 (retry at once; BullMQ would read -1 as "do not retry"), a non-number or `NaN`
 *   becomes 0, and anything above `MAX_BACKOFF_DELAY_MS` (including `Infinity`) becomes that bound.
 */
export function computeBackoffDelay(
  policy: RetryPolicy,
  attempt: number,
  error: Error,
  random: () => number = Math.random,
): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a positive integer (the attempt that just failed), got ${attempt}`);
  }
  const { backoff } = policy;
  if (typeof backoff === 'function') return clampDelay(backoff(attempt, error));
  return clampDelay(withJitter(baseDelay(backoff, attempt), backoff.jitter, random));
}

function baseDelay(backoff: BackoffOptions, attempt: number): number {
  const raw = backoff.type === 'exponential' ? backoff.delay * 2 ** (attempt - 1) : backoff.delay;
  return Math.min(raw, backoff.maxDelay ?? MAX_BACKOFF_DELAY_MS);
}

function withJitter(delay: number, jitter: number | undefined, random: () => number): number {
  if (!jitter) return delay;
  return delay * (1 - jitter * random());
}

function clampDelay(delay: unknown): number {
  if (typeof delay !== 'number' || Number.isNaN(delay) || delay <= 0) return 0;
  return Math.round(Math.min(delay, MAX_BACKOFF_DELAY_MS));
}
