import type { LoggerService } from '@nestjs/common';
import type { DeliveryRecordWrite, DeliveryRecords } from '../../core/ports/delivery-records.js';
import type { StoredEvent } from '../../events/domain-event.js';
import { logHandlerFailure } from '../../subscriptions/handler-failure-log.js';
import {
  describeError,
  eventForHandlers,
  failure,
  runHandler,
  type HandlerLimits,
  type HandlerOutcome,
  type TransactionalRun,
} from '../../subscriptions/handler-runner.js';
import { retryDelay } from '../../subscriptions/retry-delay.js';
import type { RetryPolicy } from '../../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../../subscriptions/subscription-manager.js';
import type { HandlerErrors } from './handler-errors.js';
import type { RetryWaits } from './retry-waits.js';

/**
 * Attempts of a re-drive of a handler this process does not know: generous, since the job ends by
 * the handler's own policy once it is known (the BullMQ transport gives such a job as many).
 */
const UNKNOWN_POLICY_ATTEMPTS = 1000;

/** One failed handler's further attempts on one event, as a BullMQ handler job carries them. */
export interface InMemoryHandlerJob {
  /** The same id a BullMQ handler job of this run gets, so a handler sees the same `context.jobId`. */
  id: string;
  event: StoredEvent;
  handler: string;
  /** Attempts made before this job's first one (1 when split off after the first try, 0 when re-driven). */
  attemptsBefore: number;
  /** Attempts this job has, fixed when it is created (a BullMQ job's `attempts`). */
  attempts: number;
  /** Wait before its first attempt, in ms. */
  delay: number;
}

export function handlerJob(spec: {
  event: StoredEvent;
  handler: string;
  attemptsBefore: number;
  /** The re-drive this job belongs to (0 for the first delivery). */
  run: number;
  /** The handler's policy, when this process knows the handler. */
  policy: RetryPolicy | undefined;
  delay: number;
}): InMemoryHandlerJob {
  const id = `${spec.event.id}__${spec.handler}`;
  const remaining = spec.policy ? spec.policy.maxAttempts - spec.attemptsBefore : UNKNOWN_POLICY_ATTEMPTS;
  return {
    id: spec.run === 0 ? id : `${id}__${spec.run}`,
    event: spec.event,
    handler: spec.handler,
    attemptsBefore: spec.attemptsBefore,
    attempts: Math.max(1, remaining),
    delay: spec.delay,
  };
}

export interface HandlerJobRunnerDeps {
  subscriptions: SubscriptionManager;
  defaultRetry: RetryPolicy;
  records: DeliveryRecords;
  waits: RetryWaits;
  errors: HandlerErrors;
  logger: LoggerService;
  /** The timeout default and the shutdown signal every handler attempt runs under. */
  limits: HandlerLimits;
  /** Runs transactional handlers once per (event, handler): the ledger's inbox. */
  transactions: TransactionalRun;
}

/**
 * Runs a handler job to its end, with the rules of the BullMQ handler-job processor: each attempt's
 * outcome is written to the handler's record (only by the job owning its run), a retryable failure
 * waits the policy's delay (none unless `realDelays`), and after the last attempt the event is
 * finalized. A wait cancelled by `close()` ends the job there: the record stays `retrying` and the
 * event unfinished, as a delayed job stays in the queue of a bus that shut down.
 */
export class HandlerJobRunner {
  constructor(private readonly deps: HandlerJobRunnerDeps) {}

  async run(job: InMemoryHandlerJob): Promise<void> {
    const { subscriptions, defaultRetry, records, waits, errors, logger } = this.deps;
    const event = eventForHandlers(job.event);
    const eventJobId = event.metadata?.jobId ?? event.id;
    let delay = job.delay;
    for (let attemptsMade = 0; ; attemptsMade += 1) {
      if (!(await waits.wait(delay))) return;
      const attempt = job.attemptsBefore + attemptsMade + 1;
      const handler = subscriptions.get(job.handler);
      const policy = handler?.retry ?? defaultRetry;
      const outcome: HandlerOutcome = handler
        ? await runHandler(
            handler,
            event,
            { attempt, replay: false, handler: job.handler, jobId: job.id },
            this.deps.limits,
            this.deps.transactions,
          )
        : failure(job.handler, new Error(`No handler named "${job.handler}" is registered in this worker process`));

      const base = { eventId: event.id, handler: job.handler, attempts: attempt, jobId: job.id };
      if (outcome.ok) {
        errors.forget(event.id, job.handler);
        await this.save({ ...base, status: 'succeeded', lastError: null });
        await records.finalizeEvent(event.id, eventJobId);
        return;
      }
      errors.remember(event.id, job.handler, outcome.error);
      const last = !outcome.retryable || attempt >= policy.maxAttempts || attemptsMade + 1 >= job.attempts;
      this.deps.limits.instruments?.handled(job.handler, last ? 'failed' : 'retry');
      logHandlerFailure(logger, {
        handler: job.handler,
        event,
        attempt,
        maxAttempts: policy.maxAttempts,
        error: outcome.error,
        final: last,
        note: last ? ' — delivery failed' : '',
      });
      const lastError = describeError(outcome.error);
      if (last) {
        await this.save({ ...base, status: 'failed', lastError });
        await records.finalizeEvent(event.id, eventJobId);
        return;
      }
      await this.save({ ...base, status: 'retrying', lastError });
      delay = retryDelay(policy, attempt, outcome.error, (thrown) => {
        logger.error(`The backoff function of ${job.handler} threw; the default was used: ${String(thrown)}`);
      });
    }
  }

  /** Writes an attempt's outcome; a record that had failed reopens its event (see the BullMQ processor). */
  private async save(record: DeliveryRecordWrite): Promise<void> {
    const previous = await this.deps.records.saveAttempt(record);
    if (previous === 'failed') await this.deps.records.reopenEvent(record.eventId);
  }
}
