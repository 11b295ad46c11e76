import type { BackoffStrategy, JobsOptions, KeepJobs, MinimalJob } from 'bullmq';
import type { StoredEvent } from '../../../events/domain-event.js';
import type { RetryPolicy } from '../../../subscriptions/retry-policy.js';
import { retryDelay } from '../../../subscriptions/retry-delay.js';
import type { SubscriptionManager } from '../../../subscriptions/subscription-manager.js';
import { HANDLER_JOB, handlerJobId, type HandlerJobData, type RecordedFailure } from './event-jobs.js';

// Shared by every transport since the in-memory one waits it too; re-exported for this folder's importers.
export { retryDelay };

/**
 * How a failed handler becomes a job of its own: its attempts are BullMQ attempts, its backoff a
 * custom BullMQ backoff strategy computing the handler's policy, so every wait is a delayed job.
 */

/** The backoff `type` of handler jobs; the worker's `backoffStrategy` recognizes it. */
export const HANDLER_BACKOFF_TYPE = 'event-bus-handler';

/**
 * Finished jobs are kept a while, so a late duplicate add of the same job id stays a no-op and
 * dashboards can show recent work; the records in PostgreSQL are what counts, so the bounds are modest.
 */
export const KEEP_COMPLETED_JOBS: KeepJobs = Object.freeze({ age: 24 * 3600, count: 10_000 });
export const KEEP_FAILED_JOBS: KeepJobs = Object.freeze({ age: 7 * 24 * 3600, count: 10_000 });

/**
 * Attempts of a re-drive started in a process that does not know the handler (e.g. publish-only):
 * generous, because the worker running the handler ends the job by its own policy.
 */
const UNKNOWN_POLICY_ATTEMPTS = 1000;

/** Just what is needed of a BullMQ `Queue`, whatever its backend. */
export interface HandlerJobQueue {
  addBulk(jobs: Array<{ name: string; data: HandlerJobData; opts?: JobsOptions }>): Promise<unknown>;
}

export interface HandlerJobSpec {
  event: StoredEvent;
  handler: string;
  /** Attempts made before this job's first one. */
  attemptsBefore: number;
  /** The re-drive this job belongs to (0 for the first delivery). */
  run: number;
  /** The handler's policy, when this process knows the handler. */
  policy: RetryPolicy | undefined;
  /** Wait before the job's first attempt, in ms. */
  delay: number;
  /** A first try's final failure the job settles the delivery with (see `HandlerJobData.failure`). */
  failure?: RecordedFailure;
}

/** The `addBulk` entry of a handler job. Its id is deterministic, so adding it twice adds it once. */
export function handlerJob(spec: HandlerJobSpec): { name: string; data: HandlerJobData; opts: JobsOptions } {
  const remaining = spec.policy ? spec.policy.maxAttempts - spec.attemptsBefore : UNKNOWN_POLICY_ATTEMPTS;
  return {
    name: HANDLER_JOB,
    data: {
      event: spec.event,
      handler: spec.handler,
      attemptsBefore: spec.attemptsBefore,
      ...(spec.failure === undefined ? {} : { failure: spec.failure }),
    },
    opts: {
      jobId: handlerJobId(spec.event.id, spec.handler, spec.run),
      attempts: Math.max(1, remaining),
      backoff: { type: HANDLER_BACKOFF_TYPE },
      delay: spec.delay,
      removeOnComplete: KEEP_COMPLETED_JOBS,
      removeOnFail: KEEP_FAILED_JOBS,
    },
  };
}

/** The policy a handler runs under: its own, else the bus's default. */
export function policyOf(subscriptions: SubscriptionManager, handler: string, defaultRetry: RetryPolicy): RetryPolicy {
  return subscriptions.get(handler)?.retry ?? defaultRetry;
}

/**
 * The worker's `settings.backoffStrategy`. BullMQ passes the job's own attempt count; the handler's
 * attempt number adds the attempts made before the job (the first try, inside the event job).
 */
export function handlerBackoffStrategy(
  subscriptions: SubscriptionManager,
  defaultRetry: RetryPolicy,
  fallback?: BackoffStrategy,
  onError?: (failure: unknown) => void,
): BackoffStrategy {
  return (attemptsMade: number, type?: string, error?: Error, job?: MinimalJob) => {
    if (type !== HANDLER_BACKOFF_TYPE) {
      if (fallback) return fallback(attemptsMade, type, error, job);
      throw new Error(`Unknown backoff type "${type}" on the event queue`);
    }
    const data = job?.data as HandlerJobData | undefined;
    const policy = policyOf(subscriptions, data?.handler ?? '', defaultRetry);
    return retryDelay(policy, (data?.attemptsBefore ?? 0) + attemptsMade, error ?? new Error('unknown error'), onError);
  };
}
