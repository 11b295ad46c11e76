import type { StoredEvent } from '../../../events/domain-event.js';

/**
 * The shapes of the jobs on the event queue. The job data carries the whole event,
 * so a worker never has to SELECT it before running handlers.
 */

/** One job per event; jobId = event id. Its processor runs every matching handler once. */
export const EVENT_JOB = 'event';

/**
 * Several events of one publish batch (DESIGN.md 6.4), at most `jobBatchSize`: one job instead of
 * one per event, so a batch costs the queue one add and one fetch. Its processor delivers each event
 * as an `EVENT_JOB` would, the events sharing the worker's handler slots.
 */
export const EVENT_BATCH_JOB = 'events';

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

export interface EventBatchJobData {
  /** In publish order; every one carries the batch job's id as `metadata.jobId`. */
  events: StoredEvent[];
  /** As `EventJobData.fresh`, for every event of the batch. */
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

/**
 * A batch job is named after its first event: batches of one publish never share an event, so their
 * ids never collide, and the same batch enqueued twice (a timed-out add that landed after all) is
 * one job. A `batch__` id is never a UUID, so the two kinds of event job are told apart by id.
 */
const BATCH_JOB_ID_PREFIX = 'batch__';

export function batchJobId(firstEventId: string): string {
  return `${BATCH_JOB_ID_PREFIX}${firstEventId}`;
}

export function isBatchJobId(jobId: string): boolean {
  return jobId.startsWith(BATCH_JOB_ID_PREFIX);
}
