import type { LoggerService } from '@nestjs/common';
import type { EventStatus, StoredEvent } from '../events/domain-event.js';
import type { EventStore } from '../store/event-store.js';
import type { RetryPolicy } from '../subscriptions/retry-policy.js';
import type { SubscriptionManager } from '../subscriptions/subscription-manager.js';
import { handlerJobId } from '../transport/bullmq/jobs/event-jobs.js';
import { logHandlerFailure } from '../subscriptions/handler-failure-log.js';
import { retryDelay } from '../transport/bullmq/jobs/handler-jobs.js';
import {
  describeError,
  eventForHandlers,
  failure,
  runHandler,
  type HandlerFailure,
  type HandlerOutcome,
} from '../subscriptions/handler-runner.js';
import type { DeliveryRecords } from './delivery-records.js';
import type { RetryWaits } from './retry-waits.js';

export interface InMemoryDeliveryDeps {
  eventStore: EventStore;
  subscriptions: SubscriptionManager;
  defaultRetry: RetryPolicy;
  records: DeliveryRecords;
  waits: RetryWaits;
  logger: LoggerService;
  /** Told after each status the delivery writes. */
  onStatus: (eventId: string) => void;
}

/**
 * Delivery in the in-memory bus, with the BullMQ adapter's semantics and its pieces (the handler
 * runner, the retry delay, the failure log): every matching handler runs once, concurrently; one that
 * throws goes on alone under its own policy (its siblings are not run again), until it succeeds,
 * exhausts `maxAttempts` or throws `NonRetryableEventError`. The event is `processing` meanwhile,
 * then `processed`, or `failed` when a delivery failed for good (a record `retryFailed` re-drives).
 */
export class InMemoryDelivery {
  constructor(private readonly deps: InMemoryDeliveryDeps) {}

  /** The first delivery of a stored event. */
  async deliver(stored: StoredEvent): Promise<void> {
    const event = eventForHandlers(stored);
    const handlers = this.deps.subscriptions.handlersFor(event.type);
    await this.setStatus(event.id, 'processing');
    const jobId = event.metadata?.jobId ?? event.id;
    const outcomes = await Promise.all(
      handlers.map((handler) =>
        runHandler(handler, event, { attempt: 1, replay: false, handler: handler.name, jobId }),
      ),
    );
    const failures = outcomes.filter((outcome): outcome is HandlerFailure => !outcome.ok);
    for (const { handler } of failures) this.deps.records.open(event.id, event.tenantId, handler);
    await Promise.all(failures.map((outcome) => this.retry(event, outcome, 1)));
    await this.finalize(event.id);
  }

  /** `retryFailed` of one delivery whose record was moved to its next run: a fresh `maxAttempts`. */
  async redrive(eventId: string, handler: string): Promise<void> {
    const stored = await this.deps.eventStore.findById(eventId);
    if (!stored) return;
    const event = eventForHandlers(stored);
    const outcome = await this.attempt(event, handler, 1);
    if (outcome.ok) this.succeed(event.id, event.tenantId, handler, 1);
    else await this.retry(event, outcome, 1);
    await this.finalize(event.id);
  }

  /** Attempts after a failed one, until the delivery settles (or the bus closes: it stays `retrying`). */
  private async retry(event: StoredEvent, failed: HandlerFailure, attempt: number): Promise<void> {
    const name = failed.handler;
    let outcome: HandlerOutcome = failed;
    for (let current = attempt; ; current += 1) {
      if (outcome.ok) {
        this.succeed(event.id, event.tenantId, name, current);
        return;
      }
      const policy = this.deps.subscriptions.get(name)?.retry ?? this.deps.defaultRetry;
      const again = outcome.retryable && current < policy.maxAttempts;
      logHandlerFailure(this.deps.logger, {
        handler: name,
        event,
        attempt: current,
        maxAttempts: policy.maxAttempts,
        error: outcome.error,
        final: !again,
        note: again ? '' : current === 1 ? ' — not retried' : ' — delivery failed',
      });
      const record = this.deps.records.open(event.id, event.tenantId, name);
      record.attempts = current;
      record.lastError = describeError(outcome.error);
      record.error = outcome.error;
      if (!again) {
        record.status = 'failed';
        record.failedAt = new Date();
        return;
      }
      const delay = retryDelay(policy, current, outcome.error, (thrown) => {
        this.deps.logger.error(`The backoff function of ${name} threw; the default was used: ${String(thrown)}`);
      });
      if (!(await this.deps.waits.wait(delay))) return;
      outcome = await this.attempt(event, name, current + 1);
    }
  }

  /** One attempt of a handler after the first try: under its own job id, as a BullMQ handler job runs it. */
  private async attempt(event: StoredEvent, name: string, attempt: number): Promise<HandlerOutcome> {
    const handler = this.deps.subscriptions.get(name);
    if (!handler) return failure(name, new Error(`No handler named "${name}" is registered in this worker process`));
    const run = this.deps.records.open(event.id, event.tenantId, name).run;
    return runHandler(handler, event, {
      attempt,
      replay: false,
      handler: name,
      jobId: handlerJobId(event.id, name, run),
    });
  }

  private succeed(eventId: string, tenantId: string, handler: string, attempts: number): void {
    const record = this.deps.records.open(eventId, tenantId, handler);
    record.status = 'succeeded';
    record.attempts = attempts;
    record.failedAt = null;
  }

  /** Once no delivery of the event is retrying: `failed` if one failed, `processed` otherwise. */
  private async finalize(eventId: string): Promise<void> {
    const { retrying, failed } = this.deps.records.state(eventId);
    if (retrying) return;
    await this.setStatus(eventId, failed ? 'failed' : 'processed');
  }

  private async setStatus(eventId: string, status: EventStatus): Promise<void> {
    await this.deps.eventStore.updateStatus(eventId, status);
    this.deps.onStatus(eventId);
  }
}
