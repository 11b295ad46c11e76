import type { StoredEvent } from '../../../events/domain-event.js';

/**
 * The shapes of the jobs on the event queue. The job data carries the whole event,
 * so a worker never has to SELECT it before running handlers.
 */

/** One job per event; jobId = event id. Its processor runs every matching handler once. */
export const EVENT_JOB = 'event';

/** One job per handler that failed its first try; it owns that handler's attempts and backoff. */
export const HANDLER_JOB = 'handler';

export interface EventJobData {
  event: StoredEvent;
  /**
   * Added by `publish` right after the event was stored (not by the relay or a recovery): on its
   * first run such a job is certainly the event's first delivery, so the worker need not ask the
   * database before running the handlers.
   */
  fresh?: boolean;
}

export interface HandlerJobData {
  event: StoredEvent;
  /** Handler name. */
  handler: string;
  /** Attempts already made before this job (1 when split off after the first try, 0 when re-driven). */
  attemptsBefore: number;
  /**
   * The final failure of the handler's first try, when it was not to be retried (`maxAttempts: 1`,
   * `NonRetryableEventError`). The job exists so the delivery is a dead letter in the queue like any
   * other: its first run fails with this error instead of calling the handler again (then
   * `attemptsBefore` is 0, the failure being attempt 1). A retry of the failed job runs the handler.
   */
  failure?: RecordedFailure;
}

/** A handler's error as a job carries it: BullMQ keeps them as the failed job's `failedReason` and `stacktrace`. */
export interface RecordedFailure {
  message: string;
  stack?: string;
}

/**
 * BullMQ job ids may not contain ':' (it separates Redis keys), so the handler job id joins
 * the event id and the handler name with '__'; `run` distinguishes re-drives of the same handler.
 */
export function handlerJobId(eventId: string, handler: string, run = 0): string {
  const id = `${eventId}__${handler}`;
  return run === 0 ? id : `${id}__${run}`;
}
