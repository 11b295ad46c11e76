import { NonRetryableEventError } from '../shared/errors.js';
import type { StoredEvent } from '../events/domain-event.js';
import type { RegisteredHandler } from './subscription-manager.js';
import type { EventContext } from './subscription.js';
import { withinHandlerLimits } from './handler-timeout.js';
import { NO_INSTRUMENTS, type EventBusInstruments } from '../observability/event-bus-instruments.js';
import { startHandlerSpan } from '../observability/tracing.js';

/** What a delivery tells the handler; the runner adds the attempt's `signal`. */
export type DeliveryContext = Omit<EventContext, 'signal'>;

/** Bounds of every attempt a delivery makes, and what reports on it. */
export interface HandlerLimits {
  /** The timeout of handlers that declare none (the bus's `handlerTimeoutMs`). */
  defaultTimeoutMs?: number;
  /** Aborted when shutdown stops waiting for running handlers: their `context.signal` is aborted too. */
  stop?: AbortSignal;
  /** The bus's metrics: each call's duration, and its success (the caller, which decides, reports a retry or failure). */
  instruments?: EventBusInstruments;
}

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
 * try, retry, re-drive, replay, in memory or through the queue) calls a handler here, so this is
 * where its span (observability/tracing.ts) and its duration are taken.
 */
export async function runHandler(
  handler: RegisteredHandler,
  event: StoredEvent,
  context: DeliveryContext,
  limits: HandlerLimits = {},
): Promise<HandlerOutcome> {
  const instruments = limits.instruments ?? NO_INSTRUMENTS;
  const span = startHandlerSpan(event, context);
  const started = instruments.enabled ? performance.now() : 0;
  let outcome: HandlerOutcome;
  try {
    await span.run(() =>
      withinHandlerLimits(
        handler.name,
        { timeoutMs: handler.timeoutMs ?? limits.defaultTimeoutMs, stop: limits.stop },
        (signal) => handler.invoke(event, { ...context, signal }),
      ),
    );
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
