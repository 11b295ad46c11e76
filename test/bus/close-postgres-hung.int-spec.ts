import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { EventStoreRepository, PersistentEventStore, eventBusEntities } from '@app/event-bus';
import { createTestBus, type TestBus } from '../support/bus.js';
import { createTestDatabase, testDatabaseUrl, waitFor, type TestDatabase } from '../support/database.js';
import { startFreezableProxy, type FreezableProxy } from '../support/freezable-proxy.js';
import { gate, newEvent, statusOf, waitForStatus } from '../delivery/delivery-helpers.js';

/**
 * `close()` is bounded whatever PostgreSQL does: it lets running handlers finish for up to
 * `shutdownTimeoutMs`, then every later step has a deadline of its own. PostgreSQL "hangs" here
 * through a proxy that stops forwarding bytes while keeping the connections open; the queue is the
 * test Redis. Jest's timeout is the bound: a close that does not settle fails the test.
 */
describe('close() while PostgreSQL hangs, and with a handler that never returns', () => {
  let db: TestDatabase;
  let proxy: FreezableProxy | undefined;
  let proxied: DataSource | undefined;
  const buses: TestBus[] = [];
  const gates: Array<{ open(): void }> = [];

  beforeAll(async () => {
    db = await createTestDatabase('close-postgres-hung');
  });

  afterEach(async () => {
    // The proxy's sockets first: a DataSource whose server hangs would never finish destroying.
    await proxy?.close();
    for (const t of buses.splice(0).reverse()) await t.close();
    for (const held of gates.splice(0)) held.open();
    if (proxied?.isInitialized) await proxied.destroy().catch(() => undefined);
    proxy = undefined;
    proxied = undefined;
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('settles while a handler is running and PostgreSQL stops answering', async () => {
    const target = new URL(testDatabaseUrl());
    proxy = await startFreezableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    proxied = new DataSource({
      type: 'postgres',
      url: proxy.rewrite(db.url),
      entities: eventBusEntities,
      installExtensions: false,
      poolSize: 4,
    });
    await proxied.initialize();
    const t = await createTestBus({
      db,
      backend: 'redis',
      suite: 'close-postgres-hung',
      eventStore: new PersistentEventStore(new EventStoreRepository(proxied)),
      shutdownTimeoutMs: 1000,
      enqueueTimeoutMs: 1000,
      initialize: false,
    });
    buses.push(t);
    const held = gate();
    gates.push(held);
    let started = false;
    await t.bus.subscribe(
      'hung.postgres',
      async () => {
        started = true;
        await held.promise;
      },
      { name: 'held' },
    );
    await t.bus.initialize();
    await t.bus.publish(newEvent('hung.postgres'));
    await waitFor(() => started, { message: 'the handler started' });

    proxy.freeze();
    // The handler returns; its event's status write then waits on the frozen database.
    held.open();
    const closing = t.bus.close();
    // Meanwhile a publish arrives too: it waits on the frozen database as well.
    void t.bus.publish(newEvent('hung.postgres')).catch(() => undefined);

    await closing;
    expect(t.logger.find('warn', 'still running after shutdownTimeoutMs')).toHaveLength(1);
  }, 60_000);

  it('settles after shutdownTimeoutMs with a handler that never returns; the job is delivered again', async () => {
    // Short locks, so BullMQ's stalled-job recovery takes the abandoned job up again quickly.
    const workerOptions = { lockDuration: 1000, stalledInterval: 500 };
    const first = await createTestBus({
      db,
      backend: 'redis',
      suite: 'close-handler-hangs',
      shutdownTimeoutMs: 500,
      workerOptions,
      initialize: false,
    });
    buses.push(first);
    const never = gate();
    gates.push(never);
    let started = false;
    await first.bus.subscribe(
      'never.returns',
      async () => {
        started = true;
        await never.promise;
      },
      { name: 'stuck' },
    );
    await first.bus.initialize();
    const event = await first.bus.publish(newEvent('never.returns'));
    await waitFor(() => started, { message: 'the handler started' });

    await first.bus.close();
    expect(first.logger.find('warn', 'still running after shutdownTimeoutMs')).toHaveLength(1);
    expect(await statusOf(db.dataSource, event.id)).toBe('processing');

    // Another worker of the same queue (a restarted process) gets the job back as stalled.
    const second = await createTestBus({
      db,
      backend: 'redis',
      suite: 'close-handler-hangs',
      sameQueueAs: first,
      workerOptions,
      initialize: false,
    });
    buses.push(second);
    const deliveredTo: string[] = [];
    await second.bus.subscribe('never.returns', async (stored) => void deliveredTo.push(stored.id), {
      name: 'stuck',
    });
    await second.bus.initialize();
    await waitForStatus(db.dataSource, [event.id], 'processed');
    expect(deliveredTo).toEqual([event.id]);
  }, 60_000);
});
