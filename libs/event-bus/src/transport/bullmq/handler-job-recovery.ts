/**
 * The handler side of lost-job recovery: an unfinished event whose event job is still in the queue
 * may have handler deliveries that nothing drives any more. Each `retrying` delivery's job is looked
 * up: a job the queue lost is added again (same job id, the attempts it had left); a job that failed
 * while its record still says `retrying` lost the write of its last outcome, and is retried. An event
 * whose event job completed and that has no `retrying` delivery lost the write of its final status,
 * which is written again from its records.
 */
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { StoredEvent } from '../../events/domain-event.js';
import { toStoredEvent, type EventStoreRow } from '../../store/typeorm/stored-event.mapper.js';
import type { RetryPolicy } from '../../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../../subscriptions/subscription-manager.js';
import { RETRYING_DELIVERIES_SQL, UNFINISHED_EVENTS_SQL } from '../outbox/outbox.sql.js';
import { HandlerDeliveryRepository } from './delivery/handler-delivery.repository.js';
import { handlerJob, policyOf } from './delivery/handler-jobs.js';

export interface HandlerJobRecoveryDeps {
  queue: Queue;
  dataSource: DataSource;
  subscriptions: SubscriptionManager;
  defaultRetry: RetryPolicy;
  /** Bounds one queue command. */
  within: <T>(work: Promise<T>) => Promise<T>;
}

/** An unfinished event whose event job the queue still has, and that job's state. */
export interface DrivenEvent {
  id: string;
  /** The event job's id (the event id when none was recorded). */
  jobId: string;
  jobState: string;
}

interface DeliveryRow {
  event_id: string;
  handler: string;
  attempts: number;
  run: number;
  job_id: string | null;
}

export class HandlerJobRecovery {
  private readonly records: HandlerDeliveryRepository;

  constructor(private readonly deps: HandlerJobRecoveryDeps) {
    this.records = new HandlerDeliveryRepository(deps.dataSource);
  }

  /** Resolves to how many handler jobs were re-added or retried. */
  async recover(events: readonly DrivenEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const { dataSource, queue, within } = this.deps;
    const rows: DeliveryRow[] = await dataSource.query(RETRYING_DELIVERIES_SQL, [events.map((event) => event.id)]);
    const driven = new Set(rows.map((row) => row.event_id));
    // The event job finished, so every outcome of its handlers was written: only the final status is missing.
    for (const event of events) {
      if (event.jobState === 'completed' && !driven.has(event.id)) {
        await this.records.finalizeEvent(event.id, event.jobId);
      }
    }
    const owned = rows.filter((row): row is DeliveryRow & { job_id: string } => row.job_id !== null);
    if (owned.length === 0) return 0;
    const states = await within(Promise.all(owned.map((row) => queue.getJobState(row.job_id))));
    let recovered = await this.retryUnrecorded(owned.filter((_, index) => states[index] === 'failed'));
    const lost = owned.filter((_, index) => states[index] === 'unknown');
    if (lost.length > 0) recovered += await this.readd(lost);
    return recovered;
  }

  /**
   * Retries the failed handler jobs whose record still says `retrying`. A handler job writes its
   * outcome before it fails, so the record is read again now that the job is known to have failed:
   * one that changed meanwhile was written after all (a dead letter stays dead).
   */
  private async retryUnrecorded(failed: ReadonlyArray<DeliveryRow & { job_id: string }>): Promise<number> {
    if (failed.length === 0) return 0;
    const { dataSource, queue, within } = this.deps;
    const now: DeliveryRow[] = await dataSource.query(RETRYING_DELIVERIES_SQL, [failed.map((row) => row.event_id)]);
    const stillRetrying = new Set(now.map((row) => row.job_id));
    let retried = 0;
    for (const row of failed) {
      if (!stillRetrying.has(row.job_id)) continue;
      const job = await within(queue.getJob(row.job_id));
      if (!job) continue;
      await within(job.retry('failed'));
      retried += 1;
    }
    return retried;
  }

  private async readd(lost: ReadonlyArray<DeliveryRow & { job_id: string }>): Promise<number> {
    const { dataSource, queue, subscriptions, defaultRetry, within } = this.deps;
    const eventRows: EventStoreRow[] = await dataSource.query(UNFINISHED_EVENTS_SQL, [
      [...new Set(lost.map((row) => row.event_id))],
    ]);
    const byId = new Map<string, StoredEvent>(eventRows.map((row) => [row.id, toStoredEvent(row)]));
    const jobs = lost
      .filter((row) => byId.has(row.event_id))
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
    if (jobs.length > 0) await within(queue.addBulk(jobs));
    return jobs.length;
  }
}
