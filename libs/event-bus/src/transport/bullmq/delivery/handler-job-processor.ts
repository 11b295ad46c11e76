import type { LoggerService } from '@nestjs/common';
import { UnrecoverableError } from 'bullmq';
import type { RetryPolicy } from '../../../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../../../subscriptions/subscription-manager.js';
import type { HandlerJobData, RecordedFailure } from '../jobs/event-jobs.js';
import type { DeliveryRecordWrite, DeliveryRecords } from '../../../core/ports/delivery-records.js';
import { logHandlerFailure } from '../../../subscriptions/handler-failure-log.js';
import type { HandlerSlots } from './handler-slots.js';
import { policyOf } from '../jobs/handler-jobs.js';
import {
  describeError,
  eventForHandlers,
  failure,
  runHandler,
  type HandlerLimits,
  type HandlerOutcome,
  type TransactionalRun,
} from '../../../subscriptions/handler-runner.js';

export interface HandlerJobProcessorDeps {
  subscriptions: SubscriptionManager;
  defaultRetry: RetryPolicy;
  records: DeliveryRecords;
  /** Bounds the handler runs of this process, shared with the event jobs. */
  slots: HandlerSlots;
  logger: LoggerService;
  /** The timeout default and the shutdown signal every handler attempt runs under. */
  limits: HandlerLimits;
  /** Runs transactional handlers once per (event, handler): the ledger's inbox. */
  transactions: TransactionalRun;
}

/** What the processor needs of the BullMQ job. */
export interface HandlerJobRun {
  id: string;
  data: HandlerJobData;
  /** Attempts of this job already made (BullMQ's `attemptsMade`). */
  attemptsMade: number;
  /** Attempts this job has in total (BullMQ's `opts.attempts`). */
  attempts: number;
}

/**
 * The processor of `HANDLER_JOB`: runs one handler that failed before, as attempt
 * `attemptsBefore + attemptsMade + 1`. Every attempt's outcome is written to the handler's record
 * before the job settles; after the last one (success, exhausted policy, or `NonRetryableEventError`)
 * the event is finalized. A retryable failure rethrows the handler's error, so BullMQ schedules the
 * next attempt through the worker's backoff strategy; a final one throws `UnrecoverableError`.
 *
 * A job carrying a final failure of the first try (`data.failure`) settles its `retrying` record with
 * it on its first run, without calling the handler: it exists to be the delivery's dead letter. Run
 * again once the record is `failed` (a retry of the failed job), it runs the handler like any other.
 */
export class HandlerJobProcessor {
  constructor(private readonly deps: HandlerJobProcessorDeps) {}

  async process(job: HandlerJobRun): Promise<void> {
    const { handler: name, attemptsBefore } = job.data;
    const event = eventForHandlers(job.data.event);
    const eventJobId = event.metadata?.jobId ?? event.id;
    const attempt = attemptsBefore + job.attemptsMade + 1;
    const handler = this.deps.subscriptions.get(name);
    const policy = policyOf(this.deps.subscriptions, name, this.deps.defaultRetry);
    if (job.data.failure) {
      const carried = { eventId: event.id, handler: name, attempts: attempt, jobId: job.id };
      if (await this.deps.records.settleCarriedFailure(carried)) {
        await this.deps.records.finalizeEvent(event.id, eventJobId);
        // Logged by the event job that ran the handler; the job only has to fail with its error.
        throw finalFailure(job.data.failure);
      }
    }

    const outcome: HandlerOutcome = handler
      ? await this.deps.slots(() =>
          runHandler(
            handler,
            event,
            { attempt, replay: false, handler: name, jobId: job.id },
            this.deps.limits,
            this.deps.transactions,
          ),
        )
      : failure(name, new Error(`No handler named "${name}" is registered in this worker process`));

    const base = { eventId: event.id, handler: name, attempts: attempt, jobId: job.id };
    if (outcome.ok) {
      await this.save({ ...base, status: 'succeeded', lastError: null });
      await this.deps.records.finalizeEvent(event.id, eventJobId);
      return;
    }

    const last = !outcome.retryable || attempt >= policy.maxAttempts || job.attemptsMade + 1 >= job.attempts;
    const lastError = describeError(outcome.error);
    this.deps.limits.instruments?.handled(name, last ? 'failed' : 'retry');
    logHandlerFailure(this.deps.logger, {
      handler: name,
      event,
      attempt,
      maxAttempts: policy.maxAttempts,
      error: outcome.error,
      final: last,
      note: last ? ' — delivery failed' : '',
    });
    if (!last) {
      await this.save({ ...base, status: 'retrying', lastError });
      throw outcome.error;
    }
    await this.save({ ...base, status: 'failed', lastError });
    await this.deps.records.finalizeEvent(event.id, eventJobId);
    throw finalFailure(outcome.error);
  }

  /**
   * Writes an attempt's outcome. A job retried outside the library after its delivery had failed
   * (Bull Board's Retry, `job.retry()`) reopens its event, so the event's status and the failure
   * records end as if `retryFailed` had re-driven the delivery.
   */
  private async save(record: DeliveryRecordWrite): Promise<void> {
    const previous = await this.deps.records.saveAttempt(record);
    if (previous === 'failed') await this.deps.records.reopenEvent(record.eventId);
  }
}

/**
 * BullMQ types stay inside the adapter: this is where a final failure (`NonRetryableEventError`, an
 * exhausted policy) becomes `UnrecoverableError`. It carries the handler's message and stack, which
 * BullMQ keeps as the failed job's `failedReason` and `stacktrace`: a dashboard then shows where the
 * handler broke, not where the library rethrew.
 */
function finalFailure(error: RecordedFailure): UnrecoverableError {
  const final = new UnrecoverableError(error.message);
  final.stack = error.stack;
  return final;
}
