import type { Queue } from 'bullmq';
import type { StoredEvent } from '../../../events/domain-event.js';
import { withDeadline } from '../../../shared/with-deadline.js';
import { eventBatchJob, eventJob } from '../jobs/event-job-options.js';
import { splitIntoJobBatches } from './job-batches.js';

/** Enqueueing did not happen (queue unreachable, refused, or too slow); the events stay for the relay. */
export class EnqueueFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnqueueFailedError';
  }
}

/**
 * Adds event jobs with a deadline. `publish` must settle within seconds whatever the queue does, so
 * every add races a timer; and while the queue's connection is known to be down, `enqueue` with
 * `failFast` gives up at once instead of piling up waiting commands (the relay enqueues later).
 */
export class EventEnqueuer {
  private reachable = false;

  constructor(
    private readonly queue: Queue,
    private readonly timeoutMs: number,
    /** Most events one job carries (`jobBatchSize`); 1 makes one job per event. */
    private readonly jobBatchSize: number,
  ) {
    // The backend turns its connections' events into 'ready' / 'close' (both backends do).
    const backend = queue.getBackend();
    backend.on('ready', () => (this.reachable = true));
    backend.on('close', () => (this.reachable = false));
    queue.waitUntilReady().then(
      () => (this.reachable = true),
      () => undefined,
    );
  }

  /** Whether the queue's connection is up, as last reported by its events or a successful add. */
  get isReachable(): boolean {
    return this.reachable;
  }

  /**
   * One `addBulk` for the events, in jobs of at most `jobBatchSize` events (a lone event's job id is
   * its own id, a batch's `batch__<first event id>`); resolves to each event's job id, in input order.
   * An id already in the queue is left alone by BullMQ, so enqueueing the same jobs twice is harmless.
   * `fresh` marks jobs that `publish` adds for events it has just stored (see `EventJobData.fresh`).
   */
  async enqueue(events: readonly StoredEvent[], { failFast = false, fresh = false } = {}): Promise<string[]> {
    if (events.length === 0) return [];
    if (failFast && !this.reachable) {
      throw new EnqueueFailedError('the queue is unreachable');
    }
    try {
      const batches = splitIntoJobBatches(events, this.jobBatchSize);
      const jobs = batches.map((batch) =>
        batch.length === 1 ? eventJob(batch[0], fresh) : eventBatchJob(batch, fresh),
      );
      // One job is one `add`: `addBulk` wraps its jobs in MULTI/EXEC, a round of bookkeeping a lone
      // job (a publish one at a time) does not need.
      const only = jobs.length === 1 ? jobs[0] : undefined;
      const adding: Promise<unknown> = only
        ? this.queue.add(only.name, only.data, only.opts)
        : this.queue.addBulk(jobs);
      await withDeadline(adding, this.timeoutMs, 'the queue');
      this.reachable = true;
      return batches.flatMap((batch, index) => batch.map(() => jobs[index].opts.jobId!));
    } catch (error) {
      // A timed-out add may still land later: harmless, the same events get the same job ids again only
      // if enqueued in the same batches; otherwise a handler may run twice (at-least-once).
      throw new EnqueueFailedError(`adding the jobs failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
