import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import type { EventBusGaugeSource } from './event-bus-instruments.js';
import { checkMetricsOption, createInstruments } from './metrics-options.js';
import { NO_INSTRUMENTS } from './event-bus-instruments.js';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

function source(overrides: Partial<EventBusGaugeSource> = {}): EventBusGaugeSource {
  return {
    failedDeliveries: async () => 2,
    outbox: async () => ({ pending: 3, oldestSeconds: 4.5 }),
    queueJobs: async () => ({ waiting: 1, failed: 2 }),
    orderedLag: async () => [{ handler: 'Projection.apply', lag: 7 }],
    ...overrides,
  };
}

async function started(registry: Registry, collectTimeoutMs = 1000) {
  const instruments = createInstruments({ registry, collectTimeoutMs }, silent);
  await instruments.ready();
  return instruments;
}

describe('Prometheus instruments', () => {
  it('metrics off are the no-op instruments', () => {
    expect(createInstruments(undefined, silent)).toBe(NO_INSTRUMENTS);
    expect(createInstruments(false, silent)).toBe(NO_INSTRUMENTS);
  });

  it('reports the gauges of an attached bus at scrape time, and none once detached', async () => {
    const registry = new Registry();
    const instruments = await started(registry);
    const detach = instruments.attach(source());
    const text = await registry.metrics();
    expect(text).toContain('event_bus_failed_deliveries 2');
    expect(text).toContain('event_bus_outbox_pending 3');
    expect(text).toContain('event_bus_outbox_oldest_seconds 4.5');
    expect(text).toContain('event_bus_queue_jobs{state="waiting"} 1');
    expect(text).toContain('event_bus_ordered_lag_events{handler="Projection.apply"} 7');
    detach();
    const after = await registry.metrics();
    expect(after).toMatch(/^event_bus_failed_deliveries NaN$/im); // prom-client writes `Nan`, which Prometheus reads
    expect(after).not.toContain('event_bus_queue_jobs{');
  });

  it('bounds a scrape: a reading that never answers reads as unknown, the others are reported', async () => {
    const registry = new Registry();
    const warnings: string[] = [];
    const instruments = createInstruments(
      { registry, collectTimeoutMs: 20 },
      { ...silent, warn: (message: string) => void warnings.push(message) },
    );
    await instruments.ready();
    instruments.attach(source({ queueJobs: () => new Promise(() => undefined) }));
    const text = await registry.metrics();
    expect(text).not.toContain('event_bus_queue_jobs{');
    expect(text).toContain('event_bus_failed_deliveries 2');
    await registry.metrics();
    expect(warnings).toEqual([expect.stringContaining('queue job counts')]); // once per outage
  });

  it('shares one set of metrics per registry between buses, counters adding up', async () => {
    const registry = new Registry();
    const [a, b] = [await started(registry), await started(registry)];
    a.published(['order.placed', 'order.placed', 'order.paid']);
    b.published(['order.placed']);
    a.handled('Mailer.send', 'success');
    b.handlerDuration('Mailer.send', 0.01);
    const text = await registry.metrics();
    expect(text).toContain('event_bus_published_total{type="order.placed"} 3');
    expect(text).toContain('event_bus_published_total{type="order.paid"} 1');
    expect(text).toContain('event_bus_handled_total{handler="Mailer.send",outcome="success"} 1');
    expect(text).toContain('event_bus_handler_duration_seconds_count{handler="Mailer.send"} 1');
  });

  it('validates the option, naming the field', () => {
    expect(() => checkMetricsOption('yes', 'metrics')).toThrow(/"metrics"/);
    expect(() => checkMetricsOption({ registry: {} }, 'metrics')).toThrow(/"metrics.registry"/);
    expect(() => checkMetricsOption({ collectTimeoutMs: 0 }, 'metrics')).toThrow(/"metrics.collectTimeoutMs"/);
    expect(() => checkMetricsOption({ registy: new Registry() }, 'metrics')).toThrow(/"metrics.registy"/);
    expect(() => checkMetricsOption({ registry: new Registry(), collectTimeoutMs: 500 }, 'metrics')).not.toThrow();
    expect(() => checkMetricsOption(true, 'metrics')).not.toThrow();
  });
});
