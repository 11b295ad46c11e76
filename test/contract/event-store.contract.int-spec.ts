import { describe, expect, it } from '@jest/globals';
import { EventBusError, EventStoreRepository, PersistentEventStore, type EventStore } from '@app/event-bus';
import { InMemoryEventStore } from '@app/event-bus/testing';
import { createTestDatabase, waitForPagingReaders } from '../support/database.js';
import { eventStoreContract, TENANT_A } from './event-store.contract.js';

describe('EventStore contract: PersistentEventStore on PostgreSQL', () => {
  eventStoreContract(async () => {
    const db = await createTestDatabase('store-contract');
    return {
      createStore: (options) =>
        new PersistentEventStore(new EventStoreRepository(db.dataSource), {
          maxPayloadBytes: options?.maxPayloadBytes,
        }),
      // CASCADE: the delivery records reference events.
      clear: async () => void (await db.dataSource.query('TRUNCATE event_store CASCADE')),
      settle: () => waitForPagingReaders(db.dataSource),
      close: () => db.drop(),
    };
  });
});

describe('EventStore contract: InMemoryEventStore', () => {
  eventStoreContract(async () => {
    const stores: InMemoryEventStore[] = [];
    return {
      createStore: (options): EventStore => {
        const store = new InMemoryEventStore(options);
        stores.push(store);
        return store;
      },
      clear: async () => stores.forEach((store) => store.clear()),
      settle: async () => undefined,
      close: async () => undefined,
    };
  });

  // Where the in-memory store differs on purpose: it has no database, so no transaction to join.
  it("refuses the caller's transaction (manager) instead of writing outside it", async () => {
    const store = new InMemoryEventStore();
    const manager = {} as never;
    const event = { type: 'order.placed', tenantId: TENANT_A, payload: null };
    await expect(store.save(event, { manager })).rejects.toThrow(/cannot join the caller's transaction/);
    await expect(store.saveAll([event], { manager })).rejects.toBeInstanceOf(EventBusError);
    expect(store.all()).toEqual([]);
  });

  it('refuses a payload limit that is not a positive integer, naming the option', () => {
    expect(() => new InMemoryEventStore({ maxPayloadBytes: 0 })).toThrow(/maxPayloadBytes/);
  });
});
