import pLimit, { type LimitFunction } from 'p-limit';

/**
 * Jobs a worker process takes from the queue per handler slot. The bus's `concurrency` bounds the
 * jobs whose handlers run at once, which is what it means to a user: the load their handlers put on
 * what they call. A job also spends time around its handlers, in round trips that are no handler's
 * work: its status is committed to PostgreSQL, then BullMQ records its outcome and hands over the
 * next job. Were the BullMQ slot and the handler slot one, each would sit idle during those round
 * trips. With twice as many jobs taken as handler slots, one job's bookkeeping overlaps the next
 * job's handlers; the cost is that up to `concurrency` jobs may wait here for a slot, held by this
 * process, while another process with idle slots could have taken them.
 */
export const JOBS_PER_HANDLER_SLOT = 2;

/** Runs a job's handlers once one of the process's `concurrency` handler slots is free. */
export type HandlerSlots = LimitFunction;

export function createHandlerSlots(concurrency: number): HandlerSlots {
  return pLimit(concurrency);
}
