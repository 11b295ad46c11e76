/**
 * PostgreSQL unreachable: every write and query of the store rejects with `StoreUnavailableError`
 * — never a raw driver error, never a wait without end — whether the server refuses connections or
 * accepts them and answers nothing (frozen). The store talks to the real database through a TCP
 * forwarder that plays the outage.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { EventStoreRepository, PersistentEventStore, StoreUnavailableError } from '@app/event-bus';
import type { DataSource } from 'typeorm';
import { createTestDatabase, waitFor } from '../support/database.js';
import type { TestDatabase } from '../support/database.js';
import { proxiedDataSource, rejectionOf } from '../support/store-outage.js';
import type { ProxiedDataSource } from '../support/store-outage.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { countRows, newEvent, TENANT_A } from './store-fixtures.js';

const STORE_TIMEOUT_MS = 300;

type StoreCall = (store: PersistentEventStore) => Promise<unknown>;

const calls: Array<[string, StoreCall]> = [
  ['save', (store) => store.save(newEvent())],
  ['saveAll', (store) => store.saveAll([newEvent(), newEvent()])],
  ['findById', (store) => store.findById(randomUUID())],
  ['getEventsByType', (store) => store.getEventsByType('workflow.node.triggered')],
  ['getEventsByTenant', (store) => store.getEventsByTenant(TENANT_A)],
  ['getEventsByTimeRange', (store) => store.getEventsByTimeRange(new Date(0), new Date())],
  ['getEventsByWorkflowId', (store) => store.getEventsByWorkflowId('wf-1')],
  ['query', (store) => store.query({ limit: 10 })],
  [
    'stream',
    async (store) => {
      for await (const event of store.stream()) void event;
    },
  ],
  ['updateStatus', (store) => store.updateStatus(randomUUID(), 'processed')],
];

describe('PersistentEventStore with PostgreSQL unreachable', () => {
  let db: TestDatabase;
  let proxied: ProxiedDataSource;
  let proxy: TcpProxy;
  let dataSource: DataSource;
  let store: PersistentEventStore;

  beforeAll(async () => {
    db = await createTestDatabase('store-unavailable');
    // A small pool: connections a hung query kept would exhaust it, and a later call would see it.
    proxied = await proxiedDataSource(db, 2);
    ({ proxy, dataSource } = proxied);
    store = new PersistentEventStore(new EventStoreRepository(dataSource), { storeTimeoutMs: STORE_TIMEOUT_MS });
  });

  afterEach(() => proxy.restore());

  afterAll(async () => {
    await proxied?.close();
    await db?.drop();
  });

  describe.each<[string, (proxy: TcpProxy) => Promise<void> | void]>([
    ['refuses connections', (p) => p.refuse()],
    ['accepts connections and answers nothing (frozen)', (p) => p.freeze()],
  ])('when PostgreSQL %s', (_label, outage) => {
    it.each(calls)('%s rejects with StoreUnavailableError, the driver error as its cause', async (name, call) => {
      await outage(proxy);
      const error = await rejectionOf(call(store), name);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).cause).toBeDefined();
      expect((error as Error).message).toContain('event store is unavailable');
    });
  });

  it('answers again once PostgreSQL is back, though hung queries held every pooled connection', async () => {
    // Both pooled connections open before the outage: the queries the freeze swallows are sent on them.
    await Promise.all([dataSource.query('SELECT pg_sleep(0.1)'), dataSource.query('SELECT pg_sleep(0.1)')]);
    proxy.freeze();
    // More hung calls than the pool has connections.
    for (let index = 0; index < 4; index++) {
      expect(await rejectionOf(store.query({ limit: 1 }), 'query')).toBeInstanceOf(StoreUnavailableError);
    }
    await proxy.restore();
    // Poll: a pool whose connections stayed checked out would never answer again.
    const stored = await waitFor(() => store.save(newEvent()), {
      timeoutMs: 10_000,
      message: 'the store to answer again after the outage',
    });
    expect(await store.findById(stored.id)).toMatchObject({ id: stored.id });
  });

  it('stores nothing of a write that failed', async () => {
    await proxy.refuse();
    const before = await countRows(db);
    expect(await rejectionOf(store.saveAll([newEvent(), newEvent()]), 'saveAll')).toBeInstanceOf(StoreUnavailableError);
    expect(await countRows(db)).toBe(before);
  });
});
