import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { InMemoryEventBus } from './in-memory-event-bus.js';

const TENANT = '33333333-3333-4333-8333-333333333333';
const silent = { log: () => undefined, error: () => undefined, warn: () => undefined };

describe('InMemoryEventBus metrics', () => {
  it('reports the same counters and store gauges as the BullMQ bus (no queue gauge)', async () => {
    const registry = new Registry();
    const bus = new InMemoryEventBus({
      logger: silent,
      metrics: { registry },
      defaultRetry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 1 } },
    });
    await bus.subscribe('order.placed', async () => undefined, { name: 'Ok.handle' });
    await bus.subscribe(
      'order.placed',
      async () => {
        throw new Error('no');
      },
      { name: 'Broken.handle' },
    );
    await bus.initialize();
    try {
      await bus.publish({ type: 'order.placed', tenantId: TENANT, payload: null });
      expect(await bus.idle(5000)).toBe(true);
      const text = await registry.metrics();
      expect(text).toContain('event_bus_published_total{type="order.placed"} 1');
      expect(text).toContain('event_bus_handled_total{handler="Ok.handle",outcome="success"} 1');
      expect(text).toContain('event_bus_handled_total{handler="Broken.handle",outcome="retry"} 1');
      expect(text).toContain('event_bus_handled_total{handler="Broken.handle",outcome="failed"} 1');
      expect(text).toContain('event_bus_handler_duration_seconds_count{handler="Broken.handle"} 2');
      expect(text).toContain('event_bus_failed_deliveries 1');
      expect(text).toContain('event_bus_outbox_pending 0');
      expect(text).not.toContain('event_bus_queue_jobs{');
    } finally {
      await bus.close();
    }
  });

  it('refuses a bad metrics option, naming it', () => {
    expect(() => new InMemoryEventBus({ metrics: 'on' as never })).toThrow(/"metrics"/);
  });
});
