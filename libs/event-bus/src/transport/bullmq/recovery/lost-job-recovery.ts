/**
 * Gives back to the queue the events it lost or gave up on, so no stored event is stranded:
 *
 * - Jobs Redis lost. Redis restarted without persistence (or restored an older snapshot, or was
 *   flushed) forgets jobs whose events PostgreSQL still holds as `pending` or `processing`. Noticing
 *   costs two cheap commands per check: the server's `run_id` (new on every restart) is compared with
 *   a marker key the bus keeps in Redis; a missing marker means Redis lost its data (or this is the
 *   queue's first start), a different one a restart. Either way every unfinished event's job is looked
 *   up and the missing ones are added again — re-adding an existing job id is a no-op in BullMQ.
 * - Jobs lost otherwise, and writes that failed. Every check also looks at the unfinished events
 *   older than one check interval (`pending` or `processing`, job id recorded or not: a missing one
 *   is the event id) and gives back what nothing drives any more: a job the queue no longer has, a
 *   handler job whose outcome was not recorded, a final status that was not written
 *   (handler-job-recovery.ts). So an event ends `processed` or `failed` within about two check
 *   intervals (plus its retries) whichever single write failed and whatever the queue lost.
 * - Event jobs BullMQ gave up on. Handler errors never fail an event job (a failing handler gets a
 *   job of its own), so a failed one met an infrastructure error on every attempt (e.g. PostgreSQL
 *   down for longer than its backoff) or stalled too often: while its event is unfinished it is
 *   retried, on both backends. Found through the queue's failed set, which stays small, rather than
 *   by scanning the event table.
 */
import type { LoggerService } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { DeliveryRecords } from '../../../core/ports/delivery-records.js';
import type { UnfinishedEvent, UnfinishedEvents } from '../../../core/ports/unfinished-events.js';
import { isUuid } from '../../../events/uuid.js';
import type { RetryPolicy } from '../../../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../../../subscriptions/subscription-manager.js';
import { withDeadline } from '../../../shared/with-deadline.js';
import type { EventEnqueuer } from '../queue/event-enqueuer.js';
import { EVENT_BATCH_JOB, EVENT_JOB, isBatchJobId, type EventBatchJobData } from '../jobs/event-jobs.js';
import { HandlerJobRecovery, type DrivenEvent } from './handler-job-recovery.js';
import { parseRedisInfo, redisClientOf } from '../queue/redis-server-info.js';
import { UnfinishedEventWalk } from './unfinished-event-walk.js';

export interface LostJobRecoveryDeps {
  queue: Queue;
  /** The store's reads of unfinished events. */
  unfinished: UnfinishedEvents;
  /** The store's delivery records (a lost final status is written again from them). */
  deliveries: DeliveryRecords;
  enqueuer: EventEnqueuer;
  logger: LoggerService;
  /** Period of the check, in ms; also the age from which an unfinished event is looked at by every check. */
  intervalMs: number;
  /** Events (or failed jobs) looked at per round trip. */
  batchSize: number;
  /** Deadline of each queue command the check issues, in ms. */
  timeoutMs: number;
  /** Retry policies of the handlers this process knows (a lost retry job is re-added with its policy). */
  subscriptions: SubscriptionManager;
  defaultRetry: RetryPolicy;
}

interface Recovered {
  /** Event jobs re-added. */
  events: number;
  /** Handler jobs re-added or retried. */
  handlers: number;
}

export class LostJobRecovery {
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private closing = false;
  /** Position in the queue's failed set, so a long run of failed jobs that must stay is paged past. */
  private failedOffset = 0;
  /** The periodic look at unfinished events older than one interval. */
  private readonly staleWalk: UnfinishedEventWalk;
  private readonly markerKey: string;
  private readonly handlerJobs: HandlerJobRecovery;
  private readonly onReady = (): void => void this.check();

  constructor(private readonly deps: LostJobRecoveryDeps) {
    const prefix = deps.queue.opts.prefix ?? 'bull';
    // Beside the queue's keys, not among them (BullMQ owns its namespace), and under the same prefix so
    // a `{hash tag}` prefix keeps it in the queue's Redis Cluster slot.
    this.markerKey = `${prefix}:event-bus:${deps.queue.name}:run-id`;
    this.handlerJobs = new HandlerJobRecovery({ ...deps, within: (work) => this.within(work) });
    this.staleWalk = new UnfinishedEventWalk(deps.unfinished, {
      batchSize: deps.batchSize,
      staleAfterMs: deps.intervalMs,
    });
  }

  start(): void {
    if (this.timer || this.closing) return;
    this.timer = setInterval(() => void this.check(), this.deps.intervalMs);
    this.timer.unref();
    // A reconnect may be a restart: look at once rather than at the next tick.
    this.deps.queue.getBackend().on('ready', this.onReady);
    void this.check();
  }

  /** Stops checking; a check in progress is awaited for at most `timeoutMs` (the store or queue may hang). */
  async stop(timeoutMs: number): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    this.deps.queue.getBackend().removeListener('ready', this.onReady);
    if (this.checking) await withDeadline(this.checking, timeoutMs, 'The lost-job check').catch(() => undefined);
  }

  /** One check; concurrent calls share it. Never rejects (a failed check is retried by the next tick). */
  check(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.checking ??= this.checkOnce()
      .catch((error: Error) => {
        this.deps.logger.debug?.(`Lost-job check skipped: ${error.message}`);
      })
      .finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    if (!(await this.checkRedisRestart())) await this.checkStale();
    await this.retryFailedEventJobs();
  }

  /** Resolves true when Redis lost its data and every unfinished event was looked at. */
  private async checkRedisRestart(): Promise<boolean> {
    const client = await this.within(redisClientOf(this.deps.queue));
    if (!client) return false;
    const { runId } = parseRedisInfo(await this.within(client.info()));
    if (!runId) return false;
    const marker = await this.within(client.get(this.markerKey));
    if (marker === runId) return false;
    const recovered = await this.scan();
    if (!recovered) return false; // cut short by stop(): the next start looks again
    await this.within(client.set(this.markerKey, runId));
    if (recovered.events + recovered.handlers > 0) {
      this.deps.logger.warn(
        `Redis ${marker === null ? 'had lost its data' : 'restarted'}: re-added ${recovered.events} event job(s) ` +
          `and ${recovered.handlers} handler job(s) that were no longer in queue "${this.deps.queue.name}".`,
      );
    }
    return true;
  }

  /** Looks up the job of every unfinished event, whatever its age, and gives back what the queue lost. */
  async scan(): Promise<Recovered | undefined> {
    const totals: Recovered = { events: 0, handlers: 0 };
    let after = 0;
    for (;;) {
      if (this.closing) return undefined;
      const rows = await this.deps.unfinished.unfinishedAfter(after, this.deps.batchSize, 0);
      if (rows.length === 0) return totals;
      after = rows[rows.length - 1].sequenceNumber;
      // A `pending` row without a job id is the relay's (which enqueues it after its grace) or a
      // publish's that is enqueueing it right now: re-adding it here would race that publish.
      add(totals, await this.recover(rows.filter((row) => row.status !== 'pending' || row.jobId !== null)));
      if (rows.length < this.deps.batchSize) return totals;
    }
  }

  /** This check's share of the periodic look at unfinished events older than one interval. */
  private async checkStale(): Promise<void> {
    const totals: Recovered = { events: 0, handlers: 0 };
    await this.staleWalk.step(
      async (rows) => add(totals, await this.recover(rows)),
      () => this.closing,
    );
    if (totals.events + totals.handlers > 0) {
      this.deps.logger.warn(
        `Gave back ${totals.events} event job(s) and ${totals.handlers} handler job(s) of queue ` +
          `"${this.deps.queue.name}" whose events were unfinished after ${this.deps.intervalMs} ms with nothing ` +
          'driving them.',
      );
    }
  }

  private async recover(rows: UnfinishedEvent[]): Promise<Recovered> {
    if (rows.length === 0) return { events: 0, handlers: 0 };
    // No job id recorded (its write failed, or the relay has not got to it): the event job's id is the event id.
    const jobIds = rows.map((row) => row.jobId ?? row.id);
    const states = await this.within(Promise.all(jobIds.map((id) => this.deps.queue.getJobState(id))));
    // An event job is re-added whatever the event's state: its processor skips handlers that already
    // have a delivery record and re-adds the retry jobs of `retrying` ones (a no-op while they exist).
    const lostIds = rows.filter((_, index) => states[index] === 'unknown').map((row) => row.id);
    let events = 0;
    if (lostIds.length > 0) {
      const lost = await this.deps.unfinished.loadUnfinished(lostIds);
      if (lost.length > 0) await this.deps.enqueuer.enqueue(lost);
      events = lost.length;
    }
    // An event job still there (e.g. Redis restored a snapshot older than the retries) says nothing
    // about its handlers' jobs or its final status: those are looked at too.
    const driven: DrivenEvent[] = [];
    rows.forEach((row, index) => {
      if (states[index] !== 'unknown' && row.status === 'processing') {
        driven.push({ id: row.id, jobId: jobIds[index], jobState: states[index] });
      }
    });
    return { events, handlers: await this.handlerJobs.recover(driven) };
  }

  /** Retries failed event jobs (single or batch) with an event still unfinished; resolves to how many. */
  private async retryFailedEventJobs(): Promise<number> {
    const { queue, batchSize } = this.deps;
    const start = this.failedOffset;
    // Ids only: failed handler jobs (dead letters, kept for days) carry whole events and stay put.
    const failedIds = await this.within(queue.getRanges(['failed'], start, start + batchSize - 1, true));
    this.failedOffset = failedIds.length < batchSize ? 0 : start + failedIds.length;
    // An event job's id is its event's id, a batch job's `batch__…`; a handler job's id joins more to
    // an event id (see handlerJobId), so it is neither.
    const singles = failedIds.filter(isUuid);
    const batches = failedIds.filter(isBatchJobId);
    const unfinishedSingles = singles.length > 0 ? await this.unfinishedAmong(singles) : new Set<string>();
    let retried = 0;
    let reason: string | undefined;
    for (const id of [...singles.filter((single) => unfinishedSingles.has(single)), ...batches]) {
      const job = await this.within(queue.getJob(id));
      if (!job) continue;
      if (job.name === EVENT_BATCH_JOB) {
        const eventIds = (job.data as EventBatchJobData).events.map((event) => event.id);
        if ((await this.unfinishedAmong(eventIds)).size === 0) continue;
      } else if (job.name !== EVENT_JOB) {
        continue;
      }
      reason ??= job.failedReason;
      await this.within(job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }));
      retried += 1;
    }
    // Retried jobs left the failed set: the next page starts that much earlier.
    this.failedOffset = Math.max(0, this.failedOffset - retried);
    if (retried > 0) {
      this.deps.logger.warn(
        `Retried ${retried} event job(s) of queue "${queue.name}" that had failed on every attempt ` +
          `(last error: ${reason}); their events were still unfinished.`,
      );
    }
    return retried;
  }

  private async unfinishedAmong(eventIds: readonly string[]): Promise<Set<string>> {
    return new Set(await this.deps.unfinished.unfinishedAmong(eventIds));
  }

  private within<T>(work: Promise<T>): Promise<T> {
    return withDeadline(work, this.deps.timeoutMs, 'The event queue');
  }
}

function add(totals: Recovered, more: Recovered): void {
  totals.events += more.events;
  totals.handlers += more.handlers;
}
