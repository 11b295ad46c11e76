import type { LoggerService } from '@nestjs/common';
import type { StoredEvent } from '../events/domain-event.js';
import { describeError } from './handler-runner.js';

export interface HandlerFailureReport {
  handler: string;
  event: StoredEvent;
  attempt: number;
  maxAttempts: number;
  error: Error;
  /** The delivery failed for good (policy exhausted, or not retryable): logged at ERROR. */
  final: boolean;
  /** Said after the error, e.g. ' — not retried'. */
  note?: string;
}

/**
 * Logs one failed handler attempt with the handler's name and its error's stack, so the place the
 * handler broke is in the log: WARN while retries remain, ERROR once the delivery failed. The stack
 * goes where Nest's loggers print it: `error`'s second argument, the message itself for `warn`
 * (whose second argument is the context).
 */
export function logHandlerFailure(logger: LoggerService, report: HandlerFailureReport): void {
  const { handler, event, attempt, maxAttempts, error, final, note = '' } = report;
  const message =
    `Handler ${handler} failed on event ${event.id} (${event.type}), attempt ${attempt} of ${maxAttempts}: ` +
    `${describeError(error)}${note}`;
  const stack = error.stack ?? describeError(error);
  if (final) logger.error(message, stack);
  else logger.warn(`${message}\n${stack}`);
}
