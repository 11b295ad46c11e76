/**
 * Whether this process's worker really consumes, for the health check. Connected is not enough: a
 * worker whose every handler slot is held by a handler that never returns, or whose fetch loop
 * stopped, answers every ping while jobs pile up. So the rule is about progress: the worker is stuck
 * when it started and finished no job for `workerStuckMs` while the oldest waiting job has waited
 * at least that long. A busy worker that keeps finishing jobs is healthy however long the queue; an
 * idle one with nothing to do is healthy however long it idles.
 */
import type { Queue } from 'bullmq';
import type { HealthCheckResult, TransportHealthLimits } from '../../../core/ports/transport-health.js';
import { withDeadline } from '../../../shared/with-deadline.js';

/** What the worker tells about itself (`EventDeliveryWorker.activity()`). */
export interface WorkerActivity {
  /** Created, not closing, and BullMQ's loop runs. */
  running: boolean;
  /** Set while its own connection is lost. */
  connectionError: string | undefined;
  /** Jobs taken and not finished (their handlers running or waiting for a slot). */
  jobsRunning: number;
  handlerSlots: { busy: number; waiting: number; size: number };
  /** When a job last started or finished (epoch ms). */
  lastActivityAt: number;
}

/** Never rejects; the queue read is bounded by `limits.timeoutMs`. */
export async function probeWorker(
  activity: WorkerActivity,
  queue: Queue,
  limits: TransportHealthLimits,
): Promise<HealthCheckResult> {
  const now = Date.now();
  const idleMs = now - activity.lastActivityAt;
  const details: Record<string, unknown> = {
    consuming: true,
    jobsRunning: activity.jobsRunning,
    handlerSlots: activity.handlerSlots,
    lastJobActivityMsAgo: idleMs,
  };
  if (!activity.running) return { healthy: false, reason: 'the event worker is not running', details };
  if (activity.connectionError !== undefined) {
    return {
      healthy: false,
      reason: `the event worker lost its queue connection (${activity.connectionError})`,
      details,
    };
  }
  // Only a worker idle past the threshold needs a closer look: a busy one is progressing.
  if (idleMs < limits.workerStuckMs) return { healthy: true, details };
  const slots = activity.handlerSlots;
  if (slots.waiting > 0) {
    // Jobs it took wait for a handler slot (the prefetched ones), and no slot was freed.
    return { healthy: false, reason: stuck(`all ${slots.size} handler slots are held`, idleMs, limits), details };
  }
  let oldestWaitingMs: number | undefined;
  try {
    oldestWaitingMs = await withDeadline(oldestWaitingAge(queue, now), limits.timeoutMs, 'The event queue');
  } catch (error) {
    return { healthy: false, reason: `the event worker's queue is unreadable: ${(error as Error).message}`, details };
  }
  details.oldestWaitingMs = oldestWaitingMs ?? null;
  if (oldestWaitingMs === undefined || oldestWaitingMs < limits.workerStuckMs) return { healthy: true, details };
  const why =
    slots.busy >= slots.size
      ? `all ${slots.size} handler slots are held and a job has waited ${oldestWaitingMs} ms in the queue`
      : `it takes no job from the queue, where a job has waited ${oldestWaitingMs} ms`;
  return { healthy: false, reason: stuck(why, idleMs, limits), details };
}

function stuck(why: string, idleMs: number, limits: TransportHealthLimits): string {
  return (
    `the event worker is stuck: ${why}; no job started or finished here for ${idleMs} ms ` +
    `(workerStuckMs ${limits.workerStuckMs})`
  );
}

/**
 * How long the next job to be taken has been waiting, or undefined when none waits. A job waits
 * since it was added, since its delay ended (a retry's backoff), or since its last attempt started,
 * whichever is latest.
 */
async function oldestWaitingAge(queue: Queue, now: number): Promise<number | undefined> {
  const [oldest] = await queue.getWaiting(0, 0);
  if (!oldest) return undefined;
  const since = Math.max(oldest.timestamp + (oldest.delay ?? 0), oldest.processedOn ?? 0);
  return Math.max(0, now - since);
}
