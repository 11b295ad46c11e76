import type { LoggerService } from '@nestjs/common';
import type { StoredEvent } from '../../../events/domain-event.js';
import type { RetryPolicy } from '../../../subscriptions/retry-policy.js';
import type { RegisteredHandler, SubscriptionManager } from '../../../subscriptions/subscription-manager.js';
import type { EventBatchJobData, EventJobData } from '../jobs/event-jobs.js';
import type { DeliveryRecord, DeliveryRecordWrite, DeliveryRecords } from '../../../core/ports/delivery-records.js';
import { handlerJob, type HandlerJobQueue } from '../jobs/handler-jobs.js';
import {
  describeError,
  eventForHandlers,
  runFirstTries,
  runHandler,
  type HandlerLimits,
  type HandlerOutcome,
  type TransactionalRun,
} from '../../../subscriptions/handler-runner.js';
import { planFirstFailure } from '../../../subscriptions/first-failure.js';
import type { HandlerSlots } from './handler-slots.js';
import type { StatusWriter } from './status-writer.js';

/** How long handlers may run on an event's first delivery before the event is marked `processing`. */
export const PROCESSING_MARK_DELAY_MS = 20;

export interface EventJobProcessorDeps {
  queue: HandlerJobQueue;
  subscriptions: SubscriptionManager;
  defaultRetry: RetryPolicy;
  records: DeliveryRecords;
  statuses: StatusWriter;
  /** Bounds the events whose handlers run at once in this process. */
  slots: HandlerSlots;
  logger: LoggerService;
  /** The timeout default and the shutdown signal every handler attempt runs under. */
  limits: HandlerLimits;
  /** Runs transactional handlers once per (event, handler): the ledger's inbox. */
  transactions: TransactionalRun;
}

/**
 * The processor of `EVENT_JOB`: runs every matching handler once, concurrently. All succeeded →
 * `processed` (one batched UPDATE). A handler that threw is split off into a `HANDLER_JOB` of its own
 * that carries its remaining attempts (or, when it is not to be retried, its final failure); the
 * siblings that succeeded are recorded and never run again.
 *
 * A job for an event that is no longer `pending` is a re-delivery (a crashed worker's stalled job,
 * or the relay re-adding a job the queue lost): handlers that already have a record are skipped,
 * and the handler jobs of `retrying` records are added again (a no-op while they still exist).
 */
export class EventJobProcessor {
  constructor(private readonly deps: EventJobProcessorDeps) {}

  /**
   * A batch job (DESIGN.md 6.4): each event as if it had a job of its own, concurrently, sharing the
   * handler slots; their status writes coalesce (status-writer.ts). An event that fails on the
   * infrastructure (a status write refused) fails the job once the others are done, and BullMQ's
   * retry of it, being a re-delivery, skips the events already finished.
   */
  async processBatch(data: EventBatchJobData, jobId: string, job: { firstRun: boolean }): Promise<void> {
    const outcomes = await Promise.allSettled(
      data.events.map((event) => this.process({ event, fresh: data.fresh }, jobId, job)),
    );
    const failed = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed.length === 1) throw failed[0].reason;
    if (failed.length > 1) {
      throw new AggregateError(
        failed.map((outcome) => outcome.reason as unknown),
        `${failed.length} of the ${data.events.length} events of job ${jobId} failed: ` +
          (failed[0].reason as Error).message,
      );
    }
  }

  async process(data: EventJobData, jobId: string, job: { firstRun: boolean } = { firstRun: false }): Promise<void> {
    const event = eventForHandlers(data.event);
    const handlers = this.deps.subscriptions.handlersFor(event.type);
    if (data.fresh === true && job.firstRun) return this.processFirstDelivery(event, handlers, jobId);
    const firstDelivery = await this.deps.statuses.markProcessing(event.id, jobId);
    let previous: DeliveryRecord[] = [];
    if (!firstDelivery) {
      const state = await this.deps.records.eventState(event.id);
      if (!state) {
        this.deps.logger.warn(`Event ${event.id} (${event.type}) is not in the event store; its job is dropped`);
        return;
      }
      // Finished events were completely handled and their status committed: nothing left to do.
      if (state.status === 'processed' || state.status === 'failed') return;
      previous = state.records;
    }

    const { toRun, outcomes } = await this.deps.slots(() =>
      runFirstTries(handlers, previous, event, jobId, this.deps.limits, this.deps.transactions),
    );

    if (previous.length === 0 && outcomes.every((outcome) => outcome.ok)) {
      await this.deps.statuses.markProcessed(event.id, jobId);
      return;
    }
    await this.splitOff(event, toRun, outcomes, previous);
    await this.deps.records.finalizeEvent(event.id, jobId);
  }

  /**
   * The hot path: the first run of the job `publish` added right after storing the event, so nothing
   * can have been delivered yet and no database read is needed first. `processing` is written only
   * when the handlers are still running after PROCESSING_MARK_DELAY_MS: fast handlers cost one status
   * write (`pending` → `processed`) instead of two, and the event shows `processing` while a slow one
   * runs. Before any handler record is written the event is `processing`, so a re-delivery (a stalled
   * job) looks at the records and never re-runs a handler that succeeded.
   */
  private async processFirstDelivery(
    event: StoredEvent,
    handlers: readonly RegisteredHandler[],
    jobId: string,
  ): Promise<void> {
    let marking: Promise<boolean> | undefined;
    const markProcessing = (): Promise<boolean> => (marking ??= this.deps.statuses.markProcessing(event.id, jobId));
    const outcomes = await this.deps.slots(async (): Promise<HandlerOutcome[]> => {
      const timer = setTimeout(() => void markProcessing().catch(() => undefined), PROCESSING_MARK_DELAY_MS);
      try {
        return await Promise.all(
          handlers.map((handler) =>
            runHandler(
              handler,
              event,
              { attempt: 1, replay: false, handler: handler.name, jobId },
              this.deps.limits,
              this.deps.transactions,
            ),
          ),
        );
      } finally {
        clearTimeout(timer);
      }
    });
    if (outcomes.every((outcome) => outcome.ok)) {
      // A `processing` write under way lands first, so it cannot overwrite `processed`.
      await marking;
      await this.deps.statuses.markProcessed(event.id, jobId);
      return;
    }
    await markProcessing();
    await this.splitOff(event, handlers, outcomes, []);
    await this.deps.records.finalizeEvent(event.id, jobId);
  }

  /**
   * Records every handler's outcome, then adds the handler jobs of those that failed. Every failed
   * handler's record is `retrying` and owned by its job until the job settles it, also one whose
   * failure is final: the event stays unfinished until then, so a crash between the two writes leaves
   * a `retrying` record whose lost job the re-delivery or the lost-job recovery adds again.
   */
  private async splitOff(
    event: StoredEvent,
    ran: readonly RegisteredHandler[],
    outcomes: readonly HandlerOutcome[],
    previous: readonly DeliveryRecord[],
  ): Promise<void> {
    const writes: DeliveryRecordWrite[] = [];
    const jobs: Array<ReturnType<typeof handlerJob>> = [];
    outcomes.forEach((outcome, index) => {
      const handler = ran[index];
      if (outcome.ok) {
        writes.push({
          eventId: event.id,
          handler: handler.name,
          status: 'succeeded',
          attempts: 1,
          lastError: null,
          jobId: null,
        });
        return;
      }
      const { policy, retry, delay } = planFirstFailure(
        handler,
        event,
        outcome,
        this.deps.defaultRetry,
        this.deps.logger,
        this.deps.limits.instruments,
      );
      // A failure not to be retried gets a job too, carrying the error instead of more attempts: its
      // first run settles the delivery as failed without calling the handler again, so the delivery is
      // a dead letter in the queue like an exhausted one, and a retry of that job runs the handler.
      const job = handlerJob({
        event,
        handler: handler.name,
        attemptsBefore: retry ? 1 : 0,
        run: 0,
        policy,
        delay,
        ...(retry ? {} : { failure: { message: outcome.error.message, stack: outcome.error.stack } }),
      });
      jobs.push(job);
      writes.push({
        eventId: event.id,
        handler: handler.name,
        status: 'retrying',
        attempts: 1,
        lastError: describeError(outcome.error),
        jobId: job.opts.jobId ?? null,
      });
    });
    for (const record of previous) {
      if (record.status === 'retrying') jobs.push(this.resumeJob(event, record));
    }
    // The record comes first: a handler job may run as soon as it is added, and it updates its record.
    await this.deps.records.insertMissing(writes);
    if (jobs.length > 0) await this.deps.queue.addBulk(jobs);
  }

  /** A `retrying` record's job again, with the attempts it has left: a no-op if the job still exists. */
  private resumeJob(event: StoredEvent, record: DeliveryRecord): ReturnType<typeof handlerJob> {
    const registered = this.deps.subscriptions.get(record.handler);
    return handlerJob({
      event,
      handler: record.handler,
      attemptsBefore: record.attempts,
      run: record.run,
      policy: registered ? (registered.retry ?? this.deps.defaultRetry) : undefined,
      delay: 0,
    });
  }
}
