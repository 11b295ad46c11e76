import type { BulkJobOptions } from 'bullmq';
import type { StoredEvent } from '../../../events/domain-event.js';
import { KEEP_COMPLETED_JOBS, KEEP_FAILED_JOBS } from './handler-jobs.js';
import { batchJobId, EVENT_BATCH_JOB, EVENT_JOB } from './event-jobs.js';
import type { EventBatchJobData, EventJobData } from './event-jobs.js';

/**
 * Attempts of the event job itself. Handler errors never fail it (a failing handler is split off
 * into its own job); only infrastructure errors do (e.g. PostgreSQL unreachable while the status is
 * written), and those are worth waiting out.
 */
export const EVENT_JOB_ATTEMPTS = Object.freeze({
  attempts: 10,
  backoff: Object.freeze({ type: 'exponential' as const, delay: 1000 }),
});

export interface EventJob {
  name: typeof EVENT_JOB;
  data: EventJobData;
  opts: BulkJobOptions;
}

export interface EventBatchJob {
  name: typeof EVENT_BATCH_JOB;
  data: EventBatchJobData;
  opts: BulkJobOptions;
}

/** The one job of an event: jobId = event id, data = the whole stored event (workers never SELECT it). */
export function eventJob(event: StoredEvent, fresh = false): EventJob {
  const data: EventJobData = { event: { ...event, metadata: { ...event.metadata, jobId: event.id } } };
  if (fresh) data.fresh = true;
  return { name: EVENT_JOB, data, opts: eventJobOptions(event.id) };
}

/** The job of several events (DESIGN.md 6.4): jobId = `batch__<first event id>`, the same options as one event's. */
export function eventBatchJob(events: readonly StoredEvent[], fresh = false): EventBatchJob {
  const jobId = batchJobId(events[0].id);
  const data: EventBatchJobData = {
    events: events.map((event) => ({ ...event, metadata: { ...event.metadata, jobId } })),
  };
  if (fresh) data.fresh = true;
  return { name: EVENT_BATCH_JOB, data, opts: eventJobOptions(jobId) };
}

function eventJobOptions(jobId: string): BulkJobOptions {
  // Fresh option objects per job: BullMQ owns what it is given.
  return {
    jobId,
    attempts: EVENT_JOB_ATTEMPTS.attempts,
    backoff: { ...EVENT_JOB_ATTEMPTS.backoff },
    // Kept a while after they finish: while a job is there, adding its id again is a no-op, so a late
    // duplicate enqueue (the relay racing a publish, a lost-job re-add) cannot deliver twice.
    removeOnComplete: { ...KEEP_COMPLETED_JOBS },
    removeOnFail: { ...KEEP_FAILED_JOBS },
  };
}
