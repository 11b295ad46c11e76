/**
 * Tracing (DESIGN.md 6.8) across the real queue (BullMQ on Redis): with an OpenTelemetry SDK
 * registered (AsyncLocalStorage context, W3C propagator, an in-memory exporter), a handler's span
 * `handle <handler>` is in the publisher's trace, a child of `publish <type>`, on its first try, on
 * a retry, in a replay (marked), and for an ordered handler (fed from the event log, not the queue).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { StoredEvent } from '@app/event-bus';
import { createTestBus, type TestBus } from '../support/bus.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait-for.js';
import { newEvent, waitForStatus } from '../delivery/delivery-helpers.js';

describe('tracing through the BullMQ bus', () => {
  let db: TestDatabase;
  let t: TestBus;
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = trace.getTracer('test');

  const spans = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name === name);
  const idOf = (span: ReadableSpan) => span.spanContext().spanId;
  const traceOf = (span: ReadableSpan) => span.spanContext().traceId;

  /** Publishes inside a span of the caller's own (an HTTP request, say); resolves to it and the stored event. */
  async function publishInRequest(type: string, metadata?: Record<string, unknown>) {
    return tracer.startActiveSpan('request', async (request) => {
      try {
        const stored = await t.bus.publish(newEvent(type, metadata ? { metadata } : {}));
        return { request, stored };
      } finally {
        request.end();
      }
    });
  }

  /** Polls until `probe` finds something (the spans end once the queue delivered). */
  async function until<T>(probe: () => T | undefined, message: string): Promise<T> {
    let found: T | undefined;
    await waitFor(() => (found = probe()) !== undefined, { timeoutMs: 10_000, message });
    return found as T;
  }

  function handleSpans(handler: string, event: StoredEvent, count: number): Promise<ReadableSpan[]> {
    return until(() => {
      const found = spans(`handle ${handler}`).filter((s) => s.attributes['event_bus.event_id'] === event.id);
      return found.length >= count ? found : undefined;
    }, `${count} span(s) of ${handler}`);
  }

  beforeAll(async () => {
    provider.register();
    db = await createTestDatabase('observability-tracing');
    t = await createTestBus({ db, backend: 'redis', suite: 'observability-tracing' });
    t.subscriptions.add('traced.ok', async () => undefined, { name: 'Traced.ok' });
    t.subscriptions.add(
      'traced.flaky',
      async (_event, ctx) => {
        if (ctx.attempt === 1) throw new Error('first try fails');
      },
      { name: 'Traced.flaky', retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 10 } } },
    );
    t.subscriptions.add(
      'traced.chain',
      async (event) => {
        await t.bus.publish(newEvent('traced.ok', { tenantId: event.tenantId }));
      },
      { name: 'Traced.chain' },
    );
    // Subscribed at run time: the bus starts its consumer, which reads the log from the beginning.
    await t.bus.subscribe('traced.ordered', async () => undefined, {
      name: 'Traced.ordered',
      ordered: true,
      startFrom: 'beginning',
    });
  });

  beforeEach(() => exporter.reset());

  afterAll(async () => {
    await t?.close();
    await db?.drop();
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('stores the publish span in metadata.traceparent; the handler span is its child, across the queue', async () => {
    const { request, stored } = await publishInRequest('traced.ok');
    const [handle] = await handleSpans('Traced.ok', stored, 1);
    const [publish] = spans('publish traced.ok');

    expect(publish.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(traceOf(publish)).toBe(request.spanContext().traceId);
    expect(stored.metadata?.traceparent).toBe(`00-${traceOf(publish)}-${idOf(publish)}-01`);
    expect(publish.attributes).toMatchObject({ 'event_bus.event_id': stored.id, 'event_bus.event_type': 'traced.ok' });

    expect(traceOf(handle)).toBe(traceOf(publish));
    expect(handle.parentSpanContext?.spanId).toBe(idOf(publish));
    expect(handle.attributes).toMatchObject({
      'event_bus.event_id': stored.id,
      'event_bus.event_type': 'traced.ok',
      'event_bus.attempt': 1,
    });
    expect(handle.attributes['event_bus.replay']).toBeUndefined();
  });

  it('gives every attempt of a retried handler its span under the publish span, the failure recorded', async () => {
    const { stored } = await publishInRequest('traced.flaky');
    const attempts = await handleSpans('Traced.flaky', stored, 2);
    const [publish] = spans('publish traced.flaky');
    const byAttempt = new Map(attempts.map((span) => [span.attributes['event_bus.attempt'], span]));

    for (const span of attempts) expect(span.parentSpanContext?.spanId).toBe(idOf(publish));
    expect(byAttempt.get(1)?.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'first try fails' });
    expect(byAttempt.get(1)?.events.map((event) => event.name)).toEqual(['exception']);
    expect(byAttempt.get(2)?.status.code).not.toBe(SpanStatusCode.ERROR);
    await waitForStatus(db.dataSource, [stored.id], 'processed');
  });

  it('puts a replayed call in the publisher trace too, marked as a replay', async () => {
    const from = new Date();
    const { stored } = await publishInRequest('traced.ok');
    await waitForStatus(db.dataSource, [stored.id], 'processed');
    const [publish] = spans('publish traced.ok');
    exporter.reset();

    await t.bus.replayEvents(from, { types: ['traced.ok'] });
    const [replayed] = await handleSpans('Traced.ok', stored, 1);
    expect(replayed.parentSpanContext?.spanId).toBe(idOf(publish));
    expect(replayed.attributes).toMatchObject({ 'event_bus.replay': true, 'event_bus.attempt': 1 });
  });

  it("puts an ordered handler's call, read from the event log, under the publish span too", async () => {
    const { request, stored } = await publishInRequest('traced.ordered');
    const [handle] = await handleSpans('Traced.ordered', stored, 1);
    const [publish] = spans('publish traced.ordered');

    expect(stored.metadata?.traceparent).toBe(`00-${traceOf(publish)}-${idOf(publish)}-01`);
    expect(traceOf(handle)).toBe(request.spanContext().traceId);
    expect(handle.parentSpanContext?.spanId).toBe(idOf(publish));
    expect(handle.attributes).toMatchObject({
      'event_bus.event_id': stored.id,
      'event_bus.event_type': 'traced.ordered',
      'event_bus.handler': 'Traced.ordered',
      'event_bus.attempt': 1,
    });
    expect(handle.attributes['event_bus.replay']).toBeUndefined();
  });

  it('keeps a traceparent the caller set', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const { stored } = await publishInRequest('traced.ok', { traceparent });
    expect(stored.metadata?.traceparent).toBe(traceparent);
    const [handle] = await handleSpans('Traced.ok', stored, 1);
    expect(handle.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
  });

  it('continues the trace through what a handler publishes', async () => {
    const { stored } = await publishInRequest('traced.chain');
    const [chain] = await handleSpans('Traced.chain', stored, 1);
    const next = await until(
      () => spans('handle Traced.ok').find((span) => traceOf(span) === traceOf(chain)),
      'the span of the event the handler published',
    );
    const innerPublish = spans('publish traced.ok').find((span) => idOf(span) === next.parentSpanContext?.spanId);
    expect(innerPublish?.parentSpanContext?.spanId).toBe(idOf(chain));
  });
});
