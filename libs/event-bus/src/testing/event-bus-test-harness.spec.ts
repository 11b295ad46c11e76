import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { InvalidEventPatternError } from '../shared/errors.js';
import type { StoredEvent } from '../events/domain-event.js';
import { EventBusTestHarness } from './event-bus-test-harness.js';
import { InMemoryEventBus } from './in-memory-event-bus.js';
import { InMemoryEventStore } from '../store/in-memory/in-memory-event-store.js';

const TENANT = '33333333-3333-4333-8333-333333333333';
const silent = { log: () => undefined, error: () => undefined, warn: () => undefined };

describe('EventBusTestHarness', () => {
  let store: InMemoryEventStore;
  let bus: InMemoryEventBus;
  let harness: EventBusTestHarness;
  const calls: string[] = [];

  beforeEach(async () => {
    store = new InMemoryEventStore();
    bus = new InMemoryEventBus({ eventStore: store, logger: silent });
    harness = new EventBusTestHarness(bus, store);
    calls.length = 0;
    await bus.subscribe('order.**', (event: StoredEvent) => void calls.push(event.type), { name: 'recorder' });
    await bus.initialize();
  });
  afterEach(() => bus.close());

  const publish = (type: string, payload: unknown = null): Promise<StoredEvent> =>
    bus.publish({ type, tenantId: TENANT, payload });

  describe('waitFor', () => {
    it('resolves with an event published before the call', async () => {
      const published = await publish('order.placed');
      await expect(harness.waitFor('order.*')).resolves.toMatchObject({ id: published.id, type: 'order.placed' });
    });

    it('resolves with an event published after the call', async () => {
      const waiting = harness.waitFor('invoice.**');
      await publish('order.placed');
      const invoice = await publish('invoice.sent.late');
      await expect(waiting).resolves.toMatchObject({ id: invoice.id });
    });

    it('asks a predicate again as statuses change, and resolves with the event as stored then', async () => {
      const published = await publish('order.placed', { n: 1 });
      const processed = await harness.waitFor((event) => event.id === published.id && event.status === 'processed');
      expect(processed).toMatchObject({ status: 'processed', payload: { n: 1 } });
    });

    it('rejects after the timeout, naming what it waited for and what was published', async () => {
      await publish('order.placed');
      await expect(harness.waitFor('order.cancelled', { timeoutMs: 20 })).rejects.toThrow(
        /no event matching "order\.cancelled" was published within 20 ms: published so far, 1: order\.placed/,
      );
      const isRefund = (event: StoredEvent): boolean => event.type === 'refund.issued';
      await expect(harness.waitFor(isRefund, { timeoutMs: 20 })).rejects.toThrow('satisfying isRefund()');
    });

    it('rejects an invalid pattern, and a predicate that throws', async () => {
      await expect(harness.waitFor('order.***')).rejects.toBeInstanceOf(InvalidEventPatternError);
      await publish('order.placed');
      await expect(
        harness.waitFor(() => {
          throw new Error('bad predicate');
        }),
      ).rejects.toThrow('bad predicate');
    });
  });

  describe('waitForIdle', () => {
    it('resolves once every delivery and retry settled', async () => {
      const attempts: number[] = [];
      await bus.subscribe(
        'payment.*',
        (_event, context) => {
          attempts.push(context.attempt);
          if (context.attempt < 4) throw new Error('not yet');
        },
        { name: 'flaky', retry: { maxAttempts: 4, backoff: { type: 'exponential', delay: 60_000 } } },
      );
      await publish('payment.received');
      await harness.waitForIdle();
      expect(attempts).toEqual([1, 2, 3, 4]);
      expect(harness.published()[0].status).toBe('processed');
    });

    it('resolves at once when nothing was published', async () => {
      await expect(harness.waitForIdle({ timeoutMs: 1 })).resolves.toBeUndefined();
    });

    it('rejects, naming the delivery, when a handler does not settle in time', async () => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      await bus.subscribe('stuck.event', () => held, { name: 'stuck' });
      const published = await publish('stuck.event');
      try {
        await expect(harness.waitForIdle({ timeoutMs: 20 })).rejects.toThrow(`event ${published.id} (stuck.event)`);
      } finally {
        release();
      }
      await harness.waitForIdle();
    });
  });

  describe('published, failures and reset', () => {
    it('lists the published events as stored now, filtered by pattern', async () => {
      const a = await publish('order.placed');
      const b = await publish('invoice.sent');
      await publish('order.line.added');
      await harness.waitForIdle();
      expect(harness.published().map((event) => event.id)).toEqual([a.id, b.id, expect.any(String)]);
      expect(harness.published('order.*')).toMatchObject([{ id: a.id, status: 'processed' }]);
      expect(harness.published('order.**')).toHaveLength(2);
      expect(harness.published('nothing')).toEqual([]);
    });

    it('does not list a repeated publish twice', async () => {
      const first = await publish('order.placed');
      await bus.publish({ id: first.id, type: 'order.placed', tenantId: TENANT, payload: null });
      expect(harness.published()).toHaveLength(1);
    });

    it('reset forgets events, publications and failures; handlers stay', async () => {
      await bus.subscribe(
        'broken.*',
        () => {
          throw new Error('broken');
        },
        { name: 'broken', retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 1 } } },
      );
      await publish('broken.thing');
      await publish('order.placed');
      await harness.waitForIdle();
      expect(harness.failures()).toMatchObject([{ handler: 'broken', attempts: 2, lastError: 'Error: broken' }]);

      await harness.reset();
      expect(harness.published()).toEqual([]);
      expect(harness.failures()).toEqual([]);
      expect(await store.query()).toEqual([]);
      await expect(bus.getFailedDeliveries()).resolves.toEqual([]);

      calls.length = 0;
      await publish('order.placed');
      await harness.waitForIdle();
      expect(calls).toEqual(['order.placed']);
    });
  });
});
