import type { LoggerService } from '@nestjs/common';
import type { StoredEvent } from '../events/domain-event.js';
import { logHandlerFailure } from './handler-failure-log.js';
import type { HandlerFailure } from './handler-runner.js';
import { retryDelay } from './retry-delay.js';
import type { RetryPolicy } from './retry-policy.js';
import type { RegisteredHandler } from './subscription-manager.js';
import type { EventBusInstruments } from '../observability/event-bus-instruments.js';

/** What follows a handler's failed first try: its policy, whether it is retried, and after how long. */
export interface FirstFailurePlan {
  policy: RetryPolicy;
  retry: boolean;
  /** Before the second attempt, in ms; 0 when not retried. */
  delay: number;
}

/**
 * Decides, logs and counts (`event_bus_handled_total`), what a failed first try leads to, by the handler's policy (or the default). One
 * rule for every transport: the BullMQ event-job processor and the in-memory one both ask here.
 */
export function planFirstFailure(
  handler: RegisteredHandler,
  event: StoredEvent,
  failure: HandlerFailure,
  defaultRetry: RetryPolicy,
  logger: LoggerService,
  instruments?: EventBusInstruments,
): FirstFailurePlan {
  const policy = handler.retry ?? defaultRetry;
  const retry = failure.retryable && policy.maxAttempts > 1;
  instruments?.handled(handler.name, retry ? 'retry' : 'failed');
  logHandlerFailure(logger, {
    handler: handler.name,
    event,
    attempt: 1,
    maxAttempts: policy.maxAttempts,
    error: failure.error,
    final: !retry,
    note: retry ? '' : ' — not retried',
  });
  const delay = retry
    ? retryDelay(policy, 1, failure.error, (thrown) => {
        logger.error(`The backoff function of ${handler.name} threw; the default was used: ${String(thrown)}`);
      })
    : 0;
  return { policy, retry, delay };
}
