/**
 * Tracing through `@opentelemetry/api` (DESIGN.md 6.8): a no-op until the application registers an
 * OpenTelemetry SDK. A publish is a span `publish <type>` (producer) per event, whose context is
 * stored in the event's `metadata.traceparent` (W3C, through the registered propagator); each
 * handler call is a span `handle <handler>` (consumer) whose parent is read back from there, so a
 * delivery through the queue, a retry and a replay all join the publisher's trace.
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';

/** The tracer's name (instrumentation scope), as an exporter shows it. */
export const TRACER_NAME = 'nestjs-durable-events';

/** Span attributes the bus sets. */
export const SPAN_ATTRIBUTES = Object.freeze({
  eventId: 'event_bus.event_id',
  eventType: 'event_bus.event_type',
  attempt: 'event_bus.attempt',
  replay: 'event_bus.replay',
  handler: 'event_bus.handler',
});

/** The W3C keys carried in `metadata`. */
const TRACE_KEYS = ['traceparent', 'tracestate'] as const;

const tracer = trace.getTracer(TRACER_NAME);

/** The spans of one publish call, and the events with their trace context. */
export interface PublishTrace<E> {
  events: E[];
  /** Ends the spans, with the stored events' ids (in input order) or the error the publish ended with. */
  end(outcome: { stored: ReadonlyArray<{ id: string }> } | { error: unknown }): void;
}

/**
 * Starts one `publish <type>` span per event in the active context and returns copies of the events
 * whose `metadata.traceparent` is that span's (a traceparent the caller set is kept). Returns
 * `undefined` when no SDK is registered, so the publish path does nothing more.
 */
export function startPublishTrace<E>(events: readonly E[]): PublishTrace<E> | undefined {
  const parent = context.active();
  const spans: Span[] = [];
  const traced: E[] = [];
  for (const event of events) {
    const type = readType(event);
    const span = tracer.startSpan(
      `publish ${type}`,
      { kind: SpanKind.PRODUCER, attributes: { [SPAN_ATTRIBUTES.eventType]: type } },
      parent,
    );
    if (spans.length === 0 && !trace.isSpanContextValid(span.spanContext())) return undefined; // no SDK
    spans.push(span);
    traced.push(withTraceContext(event, trace.setSpan(parent, span)));
  }
  return {
    events: traced,
    end(outcome) {
      spans.forEach((span, index) => {
        if ('error' in outcome) {
          recordError(span, outcome.error);
        } else {
          const id = outcome.stored[index]?.id;
          if (id !== undefined) span.setAttribute(SPAN_ATTRIBUTES.eventId, id);
        }
        span.end();
      });
    },
  };
}

/** One handler call's span; `run` calls the handler in its context, so what the handler publishes joins the trace. */
export interface HandlerSpan {
  run<T>(call: () => Promise<T>): Promise<T>;
  end(error?: Error): void;
}

const NO_HANDLER_SPAN: HandlerSpan = Object.freeze({
  run: <T>(call: () => Promise<T>) => call(),
  end: () => undefined,
});

export interface HandlerCall {
  handler: string;
  attempt: number;
  replay: boolean;
}

/** Starts `handle <handler>` as a child of the publish span the event's metadata names. */
export function startHandlerSpan(
  event: { id: string; type: string; metadata?: Record<string, unknown> | null },
  call: HandlerCall,
): HandlerSpan {
  const parent = storedContext(event.metadata);
  const span = tracer.startSpan(`handle ${call.handler}`, { kind: SpanKind.CONSUMER }, parent);
  if (!span.isRecording() && !trace.isSpanContextValid(span.spanContext())) return NO_HANDLER_SPAN; // no SDK
  if (span.isRecording()) {
    span.setAttributes({
      [SPAN_ATTRIBUTES.eventId]: event.id,
      [SPAN_ATTRIBUTES.eventType]: event.type,
      [SPAN_ATTRIBUTES.handler]: call.handler,
      [SPAN_ATTRIBUTES.attempt]: call.attempt,
      ...(call.replay ? { [SPAN_ATTRIBUTES.replay]: true } : {}),
    });
  }
  const active = trace.setSpan(parent, span);
  return {
    run: (handlerCall) => context.with(active, handlerCall),
    end(error) {
      if (error) recordError(span, error);
      span.end();
    },
  };
}

/** The trace context an event carries, or none (a root span follows). */
function storedContext(metadata: Record<string, unknown> | null | undefined): Context {
  if (typeof metadata?.traceparent !== 'string') return ROOT_CONTEXT;
  const carrier: Record<string, string> = { traceparent: metadata.traceparent };
  if (typeof metadata.tracestate === 'string') carrier.tracestate = metadata.tracestate;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/**
 * A copy of the event with the span's W3C context in `metadata`. The event is not validated yet: an
 * event this cannot copy (not an object, metadata that is not a plain object, a getter that throws)
 * is returned as it is, for the validation to judge.
 */
function withTraceContext<E>(event: E, spanContext: Context): E {
  try {
    if (typeof event !== 'object' || event === null) return event;
    const metadata: unknown = (event as { metadata?: unknown }).metadata;
    if (metadata !== undefined && !isPlainObject(metadata)) return event;
    const given = metadata;
    if (given?.traceparent !== undefined) return event; // the caller's own context wins
    const carrier: Record<string, string> = {};
    propagation.inject(spanContext, carrier);
    if (carrier.traceparent === undefined) return event; // no propagator registered
    const added: Record<string, unknown> = { ...given };
    for (const key of TRACE_KEYS) if (carrier[key] !== undefined) added[key] = carrier[key];
    // Keeps the event's prototype: a class instance with getters stays one.
    const prototype = Object.getPrototypeOf(event) as object | null;
    const copy = Object.create(prototype, Object.getOwnPropertyDescriptors(event)) as E;
    Object.defineProperty(copy, 'metadata', { value: added, enumerable: true, writable: true, configurable: true });
    return copy;
  } catch {
    return event;
  }
}

function readType(event: unknown): string {
  try {
    const type = (event as { type?: unknown } | null)?.type;
    return typeof type === 'string' ? type : 'unknown';
  } catch {
    return 'unknown';
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function recordError(span: Span, error: unknown): void {
  const recorded = error instanceof Error ? error : new Error(String(error));
  span.recordException(recorded);
  span.setStatus({ code: SpanStatusCode.ERROR, message: recorded.message });
}
