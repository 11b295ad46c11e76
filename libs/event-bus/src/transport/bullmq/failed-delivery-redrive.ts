import type { FailedDeliveryFilter } from '../../core/event-bus.js';
import type { FailedDeliveryRecords } from '../../core/ports/failed-delivery-records.js';
import type { RetryPolicy } from '../../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../../subscriptions/subscription-manager.js';
import { handlerJob, type HandlerJobQueue } from './jobs/handler-jobs.js';

/** The queue, for adding the re-drives' jobs and removing the failed jobs they replace. */
export interface RedriveQueue extends HandlerJobQueue {
  remove(jobId: string): Promise<number>;
}

export interface FailedDeliveryRedriveDeps {
  failed: FailedDeliveryRecords;
  queue: RedriveQueue;
  subscriptions: SubscriptionManager;
  defaultRetry: RetryPolicy;
}

/**
 * The queue's side of `retryFailed`: each claimed failed delivery (the ledger claims and marks it)
 * becomes a new handler job with a fresh `maxAttempts`, under a new job id (the failed job of the
 * last run may still be in the queue); only the failed handler runs. Once the batch committed, the
 * failed job of the last run is removed from the queue: the delivery is no dead letter any more, and
 * a Retry of that old job (e.g. from a dashboard) would run the handler outside its run.
 */
export class FailedDeliveryRedrive {
  constructor(private readonly deps: FailedDeliveryRedriveDeps) {}

  /** Resolves to how many deliveries were re-driven. */
  retry(filter: FailedDeliveryFilter = {}): Promise<number> {
    const { failed, queue, subscriptions, defaultRetry } = this.deps;
    return failed.redriveFailed(
      filter,
      (claims) => {
        const jobs = claims.map((claim) => {
          const registered = subscriptions.get(claim.handler);
          return handlerJob({
            event: { ...claim.event, status: 'processing' },
            handler: claim.handler,
            attemptsBefore: 0,
            run: claim.run,
            policy: registered ? (registered.retry ?? defaultRetry) : undefined,
            delay: 0,
          });
        });
        return { jobIds: jobs.map((job) => job.opts.jobId!), enqueue: () => queue.addBulk(jobs) };
      },
      (replaced) => this.removeReplaced(replaced),
    );
  }

  /**
   * Removes the failed jobs of the runs just replaced. One that cannot be removed (a job being
   * retried from a dashboard right now is locked) is left: it no longer owns its record, so it
   * changes nothing, and it ages out of the queue with the other finished jobs.
   */
  private async removeReplaced(jobIds: readonly string[]): Promise<void> {
    await Promise.all(jobIds.map((jobId) => this.deps.queue.remove(jobId).catch(() => 0)));
  }
}
