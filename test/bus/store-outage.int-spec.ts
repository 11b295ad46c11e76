/**
 * The bus while PostgreSQL is unreachable (refused, or frozen: accepting and answering nothing):
 * `publish`, `publishAll` and the bus's queries reject with `StoreUnavailableError` within about
 * `storeTimeoutMs`, and nothing is enqueued. The queue itself (Redis, or BullMQ's PostgreSQL backend
 * on a direct connection) stays up: only the store's DataSource goes through the outage proxy.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { EventStoreRepository, PersistentEventStore, StoreUnavailableError } from '@app/event-bus';
import type { EventBus } from '@app/event-bus';
import { createTestBus, transportBackends } from '../support/bus.js';
import type { TestBus } from '../support/bus.js';
import { createTestDatabase } from '../support/database.js';
import type { TestDatabase } from '../support/database.js';
import { proxiedDataSource, rejectionOf } from '../support/store-outage.js';
import type { ProxiedDataSource } from '../support/store-outage.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { newEvent } from './bus-fixtures.js';

const STORE_TIMEOUT_MS = 300;

const calls: Array<[string, (bus: EventBus) => Promise<unknown>]> = [
  ['publish', (bus) => bus.publish(newEvent())],
  ['publishAll', (bus) => bus.publishAll([newEvent(), newEvent()])],
  ['getEventsByWorkflowId', (bus) => bus.getEventsByWorkflowId('wf-1')],
  ['getFailedDeliveries', (bus) => bus.getFailedDeliveries()],
  ['retryFailed', (bus) => bus.retryFailed()],
];

describe.each(transportBackends())('%s backend: the bus while PostgreSQL is unreachable', (backend) => {
  let db: TestDatabase;
  let proxied: ProxiedDataSource;
  let proxy: TcpProxy;
  let t: TestBus;

  beforeAll(async () => {
    db = await createTestDatabase(`bus-store-outage-${backend}`);
    proxied = await proxiedDataSource(db, 4);
    proxy = proxied.proxy;
    t = await createTestBus({
      db: { ...db, dataSource: proxied.dataSource },
      backend,
      suite: 'bus-store-outage',
      // Nothing in the background talks to the store: the calls under test are the only ones.
      worker: false,
      relay: false,
      storeTimeoutMs: STORE_TIMEOUT_MS,
      eventStore: new PersistentEventStore(new EventStoreRepository(proxied.dataSource), {
        storeTimeoutMs: STORE_TIMEOUT_MS,
      }),
    });
  });

  afterEach(() => proxy.restore());

  afterAll(async () => {
    await proxy?.restore();
    await t?.close();
    await proxied?.close();
    await db?.drop();
  });

  describe.each<[string, (proxy: TcpProxy) => Promise<void> | void]>([
    ['refuses connections', (p) => p.refuse()],
    ['answers nothing (frozen)', (p) => p.freeze()],
  ])('when PostgreSQL %s', (_label, outage) => {
    it.each(calls)('%s rejects with StoreUnavailableError', async (name, call) => {
      await outage(proxy);
      const error = await rejectionOf(call(t.bus), name);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as StoreUnavailableError).cause).toBeDefined();
    });

    it('enqueues nothing of a publish that failed', async () => {
      await outage(proxy);
      await rejectionOf(t.bus.publish(newEvent()), 'publish');
      await rejectionOf(t.bus.publishAll([newEvent(), newEvent()]), 'publishAll');
      const counts = await t.inspect().getJobCounts();
      expect(Object.values(counts).reduce((sum, count) => sum + count, 0)).toBe(0);
    });
  });

  it('publishes again once PostgreSQL is back', async () => {
    await proxy.refuse();
    await rejectionOf(t.bus.publish(newEvent()), 'publish');
    await proxy.restore();
    const stored = await t.bus.publish(newEvent());
    expect(stored.status).toBe('pending');
  });
});
