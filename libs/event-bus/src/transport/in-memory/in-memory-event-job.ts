import type { LoggerService } from '@nestjs/common';
import type {
  DeliveryRecord,
  DeliveryRecordWrite,
  DeliveryRecords,
  EventStatuses,
} from '../../core/ports/delivery-records.js';
import type { StoredEvent } from '../../events/domain-event.js';
import { planFirstFailure } from '../../subscriptions/first-failure.js';
import {
  describeError,
  eventForHandlers,
  runFirstTries,
  type HandlerLimits,
  type HandlerOutcome,
  type TransactionalRun,
} from '../../subscriptions/handler-runner.js';
import type { RetryPolicy } from '../../subscriptions/retry-policy.js';
import type { RegisteredHandler, SubscriptionManager } from '../../subscriptions/subscription-manager.js';
import type { HandlerErrors } from './handler-errors.js';
import { handlerJob, type InMemoryHandlerJob } from './in-memory-handler-job.js';

export interface EventJobRunnerDeps {
  subscriptions: SubscriptionManager;
  defaultRetry: RetryPolicy;
  statuses: EventStatuses;
  records: DeliveryRecords;
  errors: HandlerErrors;
  logger: LoggerService;
  /** The timeout default and the shutdown signal every handler attempt runs under. */
  limits: HandlerLimits;
  /** Runs transactional handlers once per (event, handler): the ledger's inbox. */
  transactions: TransactionalRun;
  /** Starts a handler job after the current turn. */
  startHandlerJob: (job: InMemoryHandlerJob) => void;
}

/**
 * One event's delivery, with the rules of the BullMQ event-job processor: the event is `processing`
 * while every matching handler runs once, concurrently; all succeeded → `processed`. A handler that
 * threw goes on alone in a handler job of its own (in-memory-handler-job.ts), or fails at once when
 * it is not to be retried; its siblings are recorded and never run again. The event is finished
 * once none of its records is `retrying`.
 */
export class EventJobRunner {
  constructor(private readonly deps: EventJobRunnerDeps) {}

  async run(stored: StoredEvent, jobId: string): Promise<void> {
    const { subscriptions, statuses, records, logger } = this.deps;
    const event = eventForHandlers(stored);
    const moved = await statuses.markProcessing([event.id], [jobId]);
    let previous: DeliveryRecord[] = [];
    if (!moved.has(event.id)) {
      // Not `pending` any more: someone else moved it (e.g. `updateStatus`), or it is gone.
      const state = await records.eventState(event.id);
      if (!state) {
        logger.warn(`Event ${event.id} (${event.type}) is not in the event store; its delivery is dropped`);
        return;
      }
      if (state.status === 'processed' || state.status === 'failed') return;
      previous = state.records;
    }
    const { toRun, outcomes } = await runFirstTries(
      subscriptions.handlersFor(event.type),
      previous,
      event,
      jobId,
      this.deps.limits,
      this.deps.transactions,
    );
    if (previous.length === 0 && outcomes.every((outcome) => outcome.ok)) {
      await statuses.markProcessed([event.id], [jobId]);
      return;
    }
    const jobs = this.splitOff(event, toRun, outcomes);
    // The records come first: a handler job updates its record.
    await records.insertMissing(jobs.writes);
    for (const job of jobs.start) this.deps.startHandlerJob(job);
    await records.finalizeEvent(event.id, jobId);
  }

  /** Every handler's record, and the handler jobs of those that failed and are to be retried. */
  private splitOff(
    event: StoredEvent,
    ran: readonly RegisteredHandler[],
    outcomes: readonly HandlerOutcome[],
  ): { writes: DeliveryRecordWrite[]; start: InMemoryHandlerJob[] } {
    const writes: DeliveryRecordWrite[] = [];
    const start: InMemoryHandlerJob[] = [];
    outcomes.forEach((outcome, index) => {
      const handler = ran[index];
      const base = { eventId: event.id, handler: handler.name, attempts: 1 };
      if (outcome.ok) {
        writes.push({ ...base, status: 'succeeded', lastError: null, jobId: null });
        return;
      }
      this.deps.errors.remember(event.id, handler.name, outcome.error);
      const { policy, retry, delay } = planFirstFailure(
        handler,
        event,
        outcome,
        this.deps.defaultRetry,
        this.deps.logger,
        this.deps.limits.instruments,
      );
      const job = handlerJob({ event, handler: handler.name, attemptsBefore: 1, run: 0, policy, delay });
      // A failure not to be retried is final at once: there is no queue to keep it as a dead letter.
      writes.push({
        ...base,
        status: retry ? 'retrying' : 'failed',
        lastError: describeError(outcome.error),
        jobId: job.id,
      });
      if (retry) start.push(job);
    });
    return { writes, start };
  }
}
