import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { EventBusError, type RetryPolicy } from '@app/event-bus';
import { InMemoryEventBus } from '@app/event-bus/testing';
import { CapturingLogger, createTestBus, transportBackends } from '../support/bus.js';
import { createTestDatabase } from '../support/database.js';
import { eventBusContract } from './event-bus.contract.js';

const defaultRetry: RetryPolicy = { maxAttempts: 3, backoff: { type: 'fixed', delay: 20 } };

describe.each(transportBackends())('EventBus contract: BullMQEventBus (%s backend)', (backend) => {
  eventBusContract(async () => {
    const db = await createTestDatabase(`bus-contract-${backend}`);
    const suite = `bus-contract-${backend}`;
    try {
      const t = await createTestBus({ db, backend, suite, defaultRetry });
      return {
        bus: t.bus,
        store: t.eventStore,
        transactional: true,
        createUninitialized: async () => {
          const idle = await createTestBus({ db, backend, suite: `${suite}-idle`, defaultRetry, initialize: false });
          return { bus: idle.bus, close: idle.close };
        },
        close: async () => {
          try {
            await t.close();
          } finally {
            await db.drop();
          }
        },
      };
    } catch (error) {
      await db.drop();
      throw error;
    }
  });
});

describe('EventBus contract: InMemoryEventBus', () => {
  const create = (): InMemoryEventBus =>
    new InMemoryEventBus({ defaultRetry, logger: new CapturingLogger('in-memory') });

  eventBusContract(async () => {
    const bus = create();
    await bus.initialize();
    return {
      bus,
      store: bus.eventStore,
      transactional: false,
      createUninitialized: async () => {
        const idle = create();
        return { bus: idle, close: () => idle.close() };
      },
      close: () => bus.close(),
    };
  });

  // Where the in-memory bus differs on purpose: no other process takes its events, so a handler
  // subscribed after start-up misses none (the BullMQ bus warns that other workers skip it).
  it('does not warn about a handler subscribed after start-up', async () => {
    const logger = new CapturingLogger('in-memory');
    const bus = new InMemoryEventBus({ defaultRetry, logger });
    await bus.initialize();
    try {
      await bus.unsubscribe(await bus.subscribe('late.event', () => undefined, { name: 'late' }));
      expect(logger.find('warn', 'subscribed after start-up')).toEqual([]);
    } finally {
      await bus.close();
    }
  });

  // Where the in-memory bus differs on purpose: it has no database, so no transaction to join.
  it("refuses the caller's transaction (manager) instead of publishing outside it", async () => {
    const bus = create();
    await bus.initialize();
    try {
      const event = { type: 'order.placed', tenantId: randomUUID(), payload: null };
      await expect(bus.publish(event, { manager: {} as never })).rejects.toBeInstanceOf(EventBusError);
      await expect(bus.publishAll([event], { manager: {} as never })).rejects.toThrow(/cannot join/);
      expect(await bus.eventStore.query()).toEqual([]);
    } finally {
      await bus.close();
    }
  });
});
