import { describe } from '@jest/globals';
import { EventStoreRepository, PersistentEventStore } from '@app/event-bus';
import { InMemoryEventStore } from '@app/event-bus/testing';
import { createTestDatabase } from '../support/database.js';
import { deliveryLedgerContract } from './delivery-ledger.contract.js';

describe('DeliveryLedger contract: TypeORM ledger on PostgreSQL', () => {
  deliveryLedgerContract(async () => {
    const db = await createTestDatabase('ledger-contract');
    const store = new PersistentEventStore(new EventStoreRepository(db.dataSource));
    return {
      store,
      ledger: store.deliveryLedger({ storeTimeoutMs: 5000 }),
      // CASCADE: the delivery records reference events.
      clear: async () => void (await db.dataSource.query('TRUNCATE event_store CASCADE')),
      close: () => db.drop(),
    };
  });
});

describe('DeliveryLedger contract: in-memory ledger of InMemoryEventStore', () => {
  deliveryLedgerContract(async () => {
    const store = new InMemoryEventStore();
    return {
      store,
      ledger: store.deliveryLedger(),
      clear: async () => store.clear(),
      close: async () => undefined,
    };
  });
});
