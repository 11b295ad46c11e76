import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { startHandlerSpan, startPublishTrace } from './tracing.js';

const event: { type: string; tenantId: string; payload: null; metadata?: Record<string, unknown> } = {
  type: 'order.placed',
  tenantId: '33333333-3333-4333-8333-333333333333',
  payload: null,
};

describe('tracing without an SDK', () => {
  it('leaves the events as they are and runs handlers directly', async () => {
    expect(startPublishTrace([event])).toBeUndefined();
    const span = startHandlerSpan({ id: 'e', type: 'order.placed' }, { handler: 'h', attempt: 1, replay: false });
    await expect(span.run(async () => 42)).resolves.toBe(42);
    span.end(new Error('nothing recorded'));
  });
});

describe('tracing with an SDK', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('adds the publish span to a copy of each event, the caller’s objects untouched', () => {
    const given = { ...event, metadata: { workflowId: 'w' } };
    const traced = startPublishTrace([given, event])!;
    expect(given.metadata).toEqual({ workflowId: 'w' });
    expect(traced.events[0].metadata).toEqual({ workflowId: 'w', traceparent: expect.stringMatching(/^00-/) });
    expect(traced.events[1].metadata).toEqual({
      traceparent: expect.stringMatching(/^00-/),
    });
    traced.end({ stored: [{ id: 'a' }, { id: 'b' }] });
    const spans = exporter.getFinishedSpans().filter((span) => span.name === 'publish order.placed');
    expect(spans.map((span) => span.attributes['event_bus.event_id'])).toEqual(['a', 'b']);
  });

  it('keeps a caller’s traceparent, a class instance’s prototype, and what validation must judge', () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    class OrderPlaced {
      tenantId = event.tenantId;
      payload = null;
      get type(): string {
        return 'order.placed';
      }
    }
    const own = { ...event, metadata: { traceparent } };
    const instance = new OrderPlaced();
    const odd = { ...event, metadata: new Map() };
    const traced = startPublishTrace<object | null>([own, instance, odd, null])!;
    expect(traced.events[0]).toBe(own);
    expect(traced.events[1]).toBeInstanceOf(OrderPlaced);
    expect((traced.events[1] as OrderPlaced).type).toBe('order.placed');
    expect(traced.events[2]).toBe(odd);
    expect(traced.events[3]).toBeNull();
    traced.end({ error: new Error('refused') });
  });

  it('parents a handler span on the stored context, marks replays and records errors', async () => {
    const traced = startPublishTrace([event])!;
    const metadata = traced.events[0].metadata;
    traced.end({ stored: [{ id: 'e1' }] });
    const span = startHandlerSpan(
      { id: 'e1', type: 'order.placed', metadata },
      { handler: 'Mailer.send', attempt: 2, replay: true },
    );
    const inside = await span.run(async () => trace.getActiveSpan()?.spanContext().spanId);
    span.end(new Error('smtp down'));
    const [handled] = exporter.getFinishedSpans().filter((s) => s.name === 'handle Mailer.send');
    const [published] = exporter.getFinishedSpans().filter((s) => s.attributes['event_bus.event_id'] === 'e1');
    expect(inside).toBe(handled.spanContext().spanId);
    expect(handled.parentSpanContext?.spanId).toBe(published.spanContext().spanId);
    expect(handled.attributes).toMatchObject({ 'event_bus.attempt': 2, 'event_bus.replay': true });
    expect(handled.status).toMatchObject({ code: 2, message: 'smtp down' });
  });
});
