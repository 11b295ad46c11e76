import type { EntityManager } from 'typeorm';
import { EventBusError, NonRetryableEventError } from '../shared/errors.js';
import type { StoredEvent } from '../events/domain-event.js';
import type { RegisteredHandler } from './subscription-manager.js';
import type { EventContext } from './subscription.js';
import { withinHandlerLimits } from './handler-timeout.js';
import { NO_INSTRUMENTS, type EventBusInstruments } from '../observability/event-bus-instruments.js';
import { startHandlerSpan } from '../observability/tracing.js';

/** What a delivery tells the handler; the runner adds the attempt's `signal` (and a transaction's `manager`). */
export type DeliveryContext = Omit<EventContext, 'signal' | 'manager'>;

/** Bounds of every attempt a delivery makes, and what reports on it. */
export interface HandlerLimits {
  /** The timeout of handlers that declare none (the bus's `handlerTimeoutMs`). */
  defaultTimeoutMs?: number;
  /** Aborted when shutdown stops waiting for running handlers: their `context.signal` is aborted too. */
  stop?: AbortSignal;
  /** The bus's metrics: each call's duration, and its success (the caller, which decides, reports a retry or failure). */
  instruments?: EventBusInstruments;
}

/**
 * Runs a transactional handler's call inside a transaction of the store's database, `manager` being
 * the transaction's (undefined on a store without one). Deliveries run it once per (event, handler)
 * through the ledger's inbox; replays run it in a plain transaction (core/ports/handler-inbox.ts).
 */
export type TransactionalRun = (
  eventId: string,
  handler: string,
  call: (manager: EntityManager | undefined) => Promise<void>,
) => Promise<unknown>;

/** What one handler call came to. A failure says whether the handler's retry policy may try again. */
export type HandlerOutcome =
  | { readonly handler: string; readonly ok: true }
  | { readonly handler: string; readonly ok: false; readonly error: Error; readonly retryable: boolean };

export type HandlerFailure = Extract<HandlerOutcome, { ok: false }>;

/** `last_error` is for people reading a dead letter; a bound keeps a pathological message out of the table. */
const MAX_ERROR_LENGTH = 4000;

/**
 * Runs one handler and turns whatever it throws into an outcome, so the caller can decide per handler
 * (split it off, record it) instead of one failure aborting the siblings. Every delivery kind (first
 * try, retry, re-drive, replay, ordered, in memory or through the queue) calls a handler here, so
 * this is where its span (observability/tracing.ts) and its duration are taken.
 *
 * A transactional handler runs through `transactions`, its limits inside the transaction, so an
 * attempt that times out is rolled back. Its run being skipped (the inbox says it handled the event
 * already) is a success: its effect has happened.
 */
export async function runHandler(
  handler: RegisteredHandler,
  event: StoredEvent,
  context: DeliveryContext,
  limits: HandlerLimits = {},
  transactions?: TransactionalRun,
): Promise<HandlerOutcome> {
  const instruments = limits.instruments ?? NO_INSTRUMENTS;
  const span = startHandlerSpan(event, context);
  const started = instruments.enabled ? performance.now() : 0;
  const attempt = (manager?: EntityManager): Promise<void> =>
    withinHandlerLimits(
      handler.name,
      {
        timeoutMs: handler.timeoutMs ?? limits.defaultTimeoutMs,
        stop: limits.stop,
        // Its transaction rolls back instead of keeping a connection (and DataSource.destroy) waiting.
        failOnStop: handler.transactional,
      },
      (signal) => handler.invoke(event, manager ? { ...context, manager, signal } : { ...context, signal }),
    );
  let outcome: HandlerOutcome;
  try {
    await span.run(async () => {
      if (!handler.transactional) await attempt();
      else if (transactions) await transactions(event.id, handler.name, attempt);
      else {
        // Every delivery path passes one; running without it would silently lose the exactly-once promise.
        throw new EventBusError(
          `Handler ${handler.name} is transactional, but this delivery has no transaction to run it in`,
        );
      }
    });
    outcome = { handler: handler.name, ok: true };
  } catch (thrown) {
    outcome = failure(handler.name, thrown);
  }
  span.end(outcome.ok ? undefined : outcome.error);
  if (instruments.enabled) {
    instruments.handlerDuration(handler.name, (performance.now() - started) / 1000);
    if (outcome.ok) instruments.handled(handler.name, 'success');
  }
  return outcome;
}

/**
 * An event job's first try: every handler that has no delivery record yet (a job delivered again
 * skips those that ran before) called at once. The BullMQ and the in-memory event jobs both run it.
 * Resolves to the handlers it called and their outcomes, in the same order.
 */
export async function runFirstTries(
  handlers: readonly RegisteredHandler[],
  previous: readonly { handler: string }[],
  event: StoredEvent,
  jobId: string,
  limits: HandlerLimits,
  transactions: TransactionalRun | undefined,
): Promise<{ toRun: RegisteredHandler[]; outcomes: HandlerOutcome[] }> {
  const done = new Set(previous.map((record) => record.handler));
  const toRun = handlers.filter((handler) => !done.has(handler.name));
  const outcomes = await Promise.all(
    toRun.map((handler) =>
      runHandler(handler, event, { attempt: 1, replay: false, handler: handler.name, jobId }, limits, transactions),
    ),
  );
  return { toRun, outcomes };
}

/** A failure outcome; `NonRetryableEventError` (by class or by name, e.g. across package copies) is final. */
export function failure(handler: string, thrown: unknown): HandlerFailure {
  const error = toError(thrown);
  const retryable = !(error instanceof NonRetryableEventError || error.name === NonRetryableEventError.name);
  return { handler, ok: false, error, retryable };
}

/** Handlers may throw anything; the queue and the records need an `Error`. */
export function toError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  const message = typeof thrown === 'string' ? thrown : safeJson(thrown);
  return new Error(`Handler threw a non-Error value: ${message}`, { cause: thrown });
}

/** The text kept as `lastError`: `Name: message`, bounded. */
export function describeError(error: Error): string {
  const text = `${error.name}: ${error.message}`;
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

/**
 * The event as handlers see it: status `processing` (the truth while they run, whatever the job data
 * says), and `metadata.jobId` = the event job's id, which is the event id.
 */
export function eventForHandlers(event: StoredEvent): StoredEvent {
  return {
    ...event,
    status: 'processing',
    metadata: { ...event.metadata, jobId: event.metadata?.jobId ?? event.id },
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
