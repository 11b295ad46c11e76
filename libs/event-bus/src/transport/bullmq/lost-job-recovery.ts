/**
 * Gives back to the queue the events it lost or gave up on, so no stored event is stranded:
 *
 * - Jobs Redis lost. Redis restarted without persistence (or restored an older snapshot, or was
 *   flushed) forgets jobs whose events PostgreSQL still holds as `pending` or `processing`. Noticing
 *   costs two cheap commands per check: the server's `run_id` (new on every restart) is compared with
 *   a marker key the bus keeps in Redis; a missing marker means Redis lost its data (or this is the
 *   queue's first start), a different one a restart. Either way every unfinished event's job is looked
 *   up and the missing ones are added again — re-adding an existing job id is a no-op in BullMQ.
 * - Event jobs BullMQ gave up on. Handler errors never fail an event job (a failing handler gets a
 *   job of its own), so a failed one met an infrastructure error on every attempt (e.g. PostgreSQL
 *   down for longer than its backoff) or stalled too often: while its event is unfinished it is
 *   retried, on both backends. Found through the queue's failed set, which stays small, rather than
 *   by scanning the event table.
 */
import type { LoggerService } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { StoredEvent } from '../../events/domain-event.js';
import { isUuid } from '../../events/uuid.js';
import type { EventStoreRow } from '../../store/typeorm/stored-event.mapper.js';
import { toStoredEvent } from '../../store/typeorm/stored-event.mapper.js';
import type { RetryPolicy } from '../../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../../subscriptions/subscription-manager.js';
import { RETRYING_DELIVERIES_SQL, UNFINISHED_AMONG_SQL, UNFINISHED_ENQUEUED_SQL } from '../outbox/outbox.sql.js';
import { withDeadline } from '../with-deadline.js';
import { handlerJob, policyOf } from './delivery/handler-jobs.js';
import type { EventEnqueuer } from './event-enqueuer.js';
import { EVENT_JOB } from './event-jobs.js';
import { parseRedisInfo, redisClientOf } from './redis-server-info.js';

export interface LostJobRecoveryDeps {
  queue: Queue;
  dataSource: DataSource;
  enqueuer: EventEnqueuer;
  logger: LoggerService;
  /** Period of the check, in ms. */
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
  /** Handler retry jobs re-added. */
  handlers: number;
}

interface DeliveryRow {
  event_id: string;
  handler: string;
  attempts: number;
  run: number;
  job_id: string | null;
}

export class LostJobRecovery {
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private closing = false;
  /** Position in the queue's failed set, so a long run of failed jobs that must stay is paged past. */
  private failedOffset = 0;
  private readonly markerKey: string;
  private readonly onReady = (): void => void this.check();

  constructor(private readonly deps: LostJobRecoveryDeps) {
    const prefix = deps.queue.opts.prefix ?? 'bull';
    // Beside the queue's keys, not among them (BullMQ owns its namespace), and under the same prefix so
    // a `{hash tag}` prefix keeps it in the queue's Redis Cluster slot.
    this.markerKey = `${prefix}:event-bus:${deps.queue.name}:run-id`;
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
    await this.checkRedisRestart();
    await this.retryFailedEventJobs();
  }

  private async checkRedisRestart(): Promise<void> {
    const client = await this.within(redisClientOf(this.deps.queue));
    if (!client) return;
    const { runId } = parseRedisInfo(await this.within(client.info()));
    if (!runId) return;
    const marker = await this.within(client.get(this.markerKey));
    if (marker === runId) return;
    const recovered = await this.scan();
    if (!recovered) return; // cut short by stop(): the next start looks again
    await this.within(client.set(this.markerKey, runId));
    if (recovered.events + recovered.handlers > 0) {
      this.deps.logger.warn(
        `Redis ${marker === null ? 'had lost its data' : 'restarted'}: re-added ${recovered.events} event job(s) ` +
          `and ${recovered.handlers} handler retry job(s) that were no longer in queue "${this.deps.queue.name}".`,
      );
    }
  }

  /** Looks up the job of every unfinished enqueued event, oldest first, and re-adds the missing ones. */
  async scan(): Promise<Recovered | undefined> {
    const totals: Recovered = { events: 0, handlers: 0 };
    let after = 0;
    for (;;) {
      if (this.closing) return undefined;
      const rows: EventStoreRow[] = await this.deps.dataSource.query(UNFINISHED_ENQUEUED_SQL, [
        after,
        this.deps.batchSize,
      ]);
      if (rows.length === 0) return totals;
      after = Number(rows[rows.length - 1].sequence_number);
      const batch = await this.recover(rows.map((row) => toStoredEvent(row)));
      totals.events += batch.events;
      totals.handlers += batch.handlers;
      if (rows.length < this.deps.batchSize) return totals;
    }
  }

  private async recover(events: StoredEvent[]): Promise<Recovered> {
    const missing = await this.missingJobs(events.map((event) => event.metadata?.jobId ?? event.id));
    // An event job is re-added whatever the event's state: its processor skips handlers that already
    // have a delivery record and re-adds the retry jobs of `retrying` ones (a no-op while they exist).
    const lost = events.filter((_, index) => missing[index]);
    if (lost.length > 0) await this.deps.enqueuer.enqueue(lost);
    // An event job still there (e.g. Redis restored a snapshot older than the retries) says nothing
    // about its handlers' retry jobs: those are looked up one by one.
    const splitOff = events.filter((event, index) => !missing[index] && event.status === 'processing');
    const handlers = splitOff.length > 0 ? await this.recoverHandlerJobs(splitOff) : 0;
    return { events: lost.length, handlers };
  }

  /** Re-adds the retry jobs of `retrying` handler deliveries that the queue lost, with the same job ids. */
  private async recoverHandlerJobs(events: StoredEvent[]): Promise<number> {
    const rows: DeliveryRow[] = await this.deps.dataSource.query(RETRYING_DELIVERIES_SQL, [
      events.map((event) => event.id),
    ]);
    const owned = rows.filter((row): row is DeliveryRow & { job_id: string } => row.job_id !== null);
    const missing = await this.missingJobs(owned.map((row) => row.job_id));
    const byId = new Map(events.map((event) => [event.id, event]));
    const { subscriptions, defaultRetry } = this.deps;
    const jobs = owned
      .filter((_, index) => missing[index])
      .map((row) =>
        handlerJob({
          event: byId.get(row.event_id)!,
          handler: row.handler,
          attemptsBefore: row.attempts,
          run: row.run,
          // A process that does not run this handler leaves the attempt count to the worker that does.
          policy: subscriptions.get(row.handler) ? policyOf(subscriptions, row.handler, defaultRetry) : undefined,
          delay: 0,
        }),
      );
    if (jobs.length > 0) await this.within(this.deps.queue.addBulk(jobs));
    return jobs.length;
  }

  /** Retries failed event jobs whose event is still unfinished; resolves to how many. */
  private async retryFailedEventJobs(): Promise<number> {
    const { queue, batchSize } = this.deps;
    const start = this.failedOffset;
    // Ids only: failed handler jobs (dead letters, kept for days) carry whole events and stay put.
    const failedIds = await this.within(queue.getRanges(['failed'], start, start + batchSize - 1, true));
    this.failedOffset = failedIds.length < batchSize ? 0 : start + failedIds.length;
    // An event job's id is its event's id; a handler job's id joins more to it (see handlerJobId).
    const eventIds = failedIds.filter(isUuid);
    if (eventIds.length === 0) return 0;
    const rows: Array<{ id: string }> = await this.deps.dataSource.query(UNFINISHED_AMONG_SQL, [eventIds]);
    let retried = 0;
    let reason: string | undefined;
    for (const { id } of rows) {
      const job = await this.within(queue.getJob(id));
      if (job?.name !== EVENT_JOB) continue;
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

  /** For each job id, whether the queue no longer knows it. */
  private async missingJobs(jobIds: string[]): Promise<boolean[]> {
    const states = await this.within(Promise.all(jobIds.map((id) => this.deps.queue.getJobState(id))));
    return states.map((state) => state === 'unknown');
  }

  private within<T>(work: Promise<T>): Promise<T> {
    return withDeadline(work, this.deps.timeoutMs, 'The event queue');
  }
}
