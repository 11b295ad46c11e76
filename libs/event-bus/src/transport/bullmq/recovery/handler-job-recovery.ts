/**
 * The handler side of lost-job recovery: an unfinished event whose event job is still in the queue
 * may have handler deliveries that nothing drives any more. Each `retrying` delivery's job is looked
 * up: a job the queue lost is added again (same job id, the attempts it had left); a job that failed
 * while its record still says `retrying` lost the write of its last outcome, and is retried. An event
 * whose event job completed and that has no `retrying` delivery lost the write of its final status,
 * which is written again from its records.
 */
import type { Queue } from 'bullmq';
import type { DeliveryRecords } from '../../../core/ports/delivery-records.js';
import type { RetryingDelivery, UnfinishedEvents } from '../../../core/ports/unfinished-events.js';
import type { StoredEvent } from '../../../events/domain-event.js';
import type { RetryPolicy } from '../../../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../../../subscriptions/subscription-manager.js';
import { handlerJob, policyOf } from '../jobs/handler-jobs.js';

export interface HandlerJobRecoveryDeps {
  queue: Queue;
  unfinished: UnfinishedEvents;
  deliveries: DeliveryRecords;
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

type OwnedDelivery = RetryingDelivery & { jobId: string };

export class HandlerJobRecovery {
  constructor(private readonly deps: HandlerJobRecoveryDeps) {}

  /** Resolves to how many handler jobs were re-added or retried. */
  async recover(events: readonly DrivenEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const { unfinished, deliveries, queue, within } = this.deps;
    const rows = await unfinished.retryingDeliveries(events.map((event) => event.id));
    const driven = new Set(rows.map((row) => row.eventId));
    // The event job finished, so every outcome of its handlers was written: only the final status is missing.
    for (const event of events) {
      if (event.jobState === 'completed' && !driven.has(event.id)) {
        await deliveries.finalizeEvent(event.id, event.jobId);
      }
    }
    const owned = rows.filter((row): row is OwnedDelivery => row.jobId !== null);
    if (owned.length === 0) return 0;
    const states = await within(Promise.all(owned.map((row) => queue.getJobState(row.jobId))));
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
  private async retryUnrecorded(failed: readonly OwnedDelivery[]): Promise<number> {
    if (failed.length === 0) return 0;
    const { unfinished, queue, within } = this.deps;
    const now = await unfinished.retryingDeliveries(failed.map((row) => row.eventId));
    const stillRetrying = new Set(now.map((row) => row.jobId));
    let retried = 0;
    for (const row of failed) {
      if (!stillRetrying.has(row.jobId)) continue;
      const job = await within(queue.getJob(row.jobId));
      if (!job) continue;
      await within(job.retry('failed'));
      retried += 1;
    }
    return retried;
  }

  private async readd(lost: readonly OwnedDelivery[]): Promise<number> {
    const { unfinished, queue, subscriptions, defaultRetry, within } = this.deps;
    const events = await unfinished.loadUnfinished([...new Set(lost.map((row) => row.eventId))]);
    const byId = new Map<string, StoredEvent>(events.map((event) => [event.id, event]));
    const jobs = lost
      .filter((row) => byId.has(row.eventId))
      .map((row) =>
        handlerJob({
          event: byId.get(row.eventId)!,
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
