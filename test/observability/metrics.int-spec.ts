/**
 * Metrics (DESIGN.md 6.8) on the real BullMQ bus (Redis, PostgreSQL): after a known workload, the
 * counters are exact per type and per handler and outcome, the histogram counted every call, the
 * scrape-time gauges read the store and the queue, and no label holds an id.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Registry, type MetricValue } from 'prom-client';
import type { StoredEvent } from '@app/event-bus';
import { BullMQEventBus } from '@app/event-bus';
import { createTestBus, type TestBus } from '../support/bus.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { newEvent, waitForStatus } from '../delivery/delivery-helpers.js';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe('metrics on the BullMQ bus', () => {
  let db: TestDatabase;
  let t: TestBus;
  const registry = new Registry();
  const published: StoredEvent[] = [];

  /** Every series of one metric, as `labels → value`. */
  async function series(name: string): Promise<Array<MetricValue<string>>> {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    if (!metric) throw new Error(`metric ${name} is not registered`);
    return metric.values;
  }
  async function value(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    const found = (await series(name)).find((entry) =>
      Object.entries(labels).every(([key, label]) => entry.labels[key] === label),
    );
    return found?.value;
  }

  beforeAll(async () => {
    db = await createTestDatabase('observability-metrics');
    t = await createTestBus({ db, backend: 'redis', suite: 'observability-metrics', metrics: { registry } });
    t.subscriptions.add('metrics.ok', async () => undefined, { name: 'Metrics.ok' });
    t.subscriptions.add(
      'metrics.flaky',
      async (_event, context) => {
        if (context.attempt === 1) throw new Error('first try fails');
      },
      { name: 'Metrics.flaky', retry: { maxAttempts: 3, backoff: { type: 'fixed', delay: 10 } } },
    );
    t.subscriptions.add(
      'metrics.doomed',
      async () => {
        throw new Error('always fails');
      },
      { name: 'Metrics.doomed', retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 10 } } },
    );

    const tenantId = randomUUID();
    published.push(
      ...(await t.bus.publishAll([
        newEvent('metrics.ok', { tenantId }),
        newEvent('metrics.ok', { tenantId }),
        newEvent('metrics.ok', { tenantId }),
      ])),
    );
    published.push(await t.bus.publish(newEvent('metrics.flaky', { tenantId })));
    const doomed = await t.bus.publish(newEvent('metrics.doomed', { tenantId, payload: { secret: 'payload-value' } }));
    published.push(doomed);
    // An idempotent repeat stores nothing: not counted.
    await t.bus.publish({ id: doomed.id, type: doomed.type, tenantId, payload: doomed.payload });

    await waitForStatus(
      db.dataSource,
      published.slice(0, 4).map((event) => event.id),
      'processed',
    );
    await waitForStatus(db.dataSource, [doomed.id], 'failed');
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('counts the stored events per type, repeats excluded', async () => {
    expect(await value('event_bus_published_total', { type: 'metrics.ok' })).toBe(3);
    expect(await value('event_bus_published_total', { type: 'metrics.flaky' })).toBe(1);
    expect(await value('event_bus_published_total', { type: 'metrics.doomed' })).toBe(1);
  });

  it('counts handler calls per handler and outcome: success, retry, failed', async () => {
    const handled = (handler: string, outcome: string) => value('event_bus_handled_total', { handler, outcome });
    expect(await handled('Metrics.ok', 'success')).toBe(3);
    expect(await handled('Metrics.flaky', 'retry')).toBe(1);
    expect(await handled('Metrics.flaky', 'success')).toBe(1);
    expect(await handled('Metrics.doomed', 'retry')).toBe(1);
    expect(await handled('Metrics.doomed', 'failed')).toBe(1);
    expect(await handled('Metrics.ok', 'failed')).toBeUndefined();
  });

  it('times every handler call in the histogram', async () => {
    const count = async (handler: string) =>
      (await series('event_bus_handler_duration_seconds')).find(
        (entry) =>
          entry.labels.handler === handler &&
          (entry as { metricName?: string }).metricName === 'event_bus_handler_duration_seconds_count',
      )?.value;
    expect(await count('Metrics.ok')).toBe(3);
    expect(await count('Metrics.flaky')).toBe(2);
    expect(await count('Metrics.doomed')).toBe(2);
  });

  it('reads the failed deliveries, the outbox and the queue at scrape time', async () => {
    expect(await value('event_bus_failed_deliveries')).toBe(1);
    expect(await value('event_bus_outbox_pending')).toBe(0);
    expect(await value('event_bus_outbox_oldest_seconds')).toBe(0);
    const jobs = await series('event_bus_queue_jobs');
    expect(jobs.map((entry) => entry.labels.state).sort()).toEqual(
      ['active', 'completed', 'delayed', 'failed', 'prioritized', 'waiting', 'waiting-children'].sort(),
    );
    // The exhausted delivery stays a failed job in the queue (its dead letter).
    expect(await value('event_bus_queue_jobs', { state: 'failed' })).toBe(1);
    expect(jobs.every((entry) => Number.isInteger(entry.value) && entry.value >= 0)).toBe(true);
    // No ordered handler yet: the lag gauge has no series.
    expect(await series('event_bus_ordered_lag_events')).toEqual([]);
  });

  it('puts no event id, tenant id or payload value in a label', async () => {
    const text = await registry.metrics();
    expect(text).not.toMatch(UUID);
    expect(text).not.toContain('payload-value');
    for (const event of published) expect(text).not.toContain(event.id);
  });

  it('lets a second bus report to the same registry (the series add up, nothing is registered twice)', async () => {
    const second = new BullMQEventBus({ ...t.options, worker: false, relay: false, metrics: { registry } });
    try {
      await second.initialize();
      await second.publish(newEvent('metrics.ok'));
      expect(await value('event_bus_published_total', { type: 'metrics.ok' })).toBe(4);
      // Both buses read the same database: the gauge sums their readings.
      expect(await value('event_bus_failed_deliveries')).toBe(2);
    } finally {
      await second.close();
    }
    expect(await value('event_bus_failed_deliveries')).toBe(1);
  });
});
