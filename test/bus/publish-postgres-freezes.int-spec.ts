import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { EventStoreRepository, PersistentEventStore, eventBusEntities } from '@app/event-bus';
import { createTestBus, type TestBus } from '../support/bus.js';
import {
  createTestDatabase,
  testDatabaseUrl,
  testRedisConnection,
  uniquePrefix,
  type TestDatabase,
} from '../support/database.js';
import { startFreezableProxy, type FreezableProxy } from '../support/freezable-proxy.js';
import { newEvent } from '../delivery/delivery-helpers.js';

/**
 * `publish` settles within its deadlines whatever PostgreSQL does, also when it stops answering
 * between the INSERT and the job-id record: the event is stored and enqueued by then, so `publish`
 * resolves; the record, which follows it, gives up within `storeTimeoutMs` and is left to recovery
 * (status writes fill a missing job id). PostgreSQL
 * "freezes" through a proxy that stops forwarding bytes; the queue is the test Redis, whose real
 * `addBulk` is followed by the freeze.
 */
describe('publish while PostgreSQL freezes after the INSERT', () => {
  let db: TestDatabase;
  let proxy: FreezableProxy | undefined;
  let proxied: DataSource | undefined;
  let queue: Queue | undefined;
  let t: TestBus | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('publish-postgres-freezes');
  });

  afterEach(async () => {
    // The proxy's sockets first: a DataSource whose server hangs would never finish destroying.
    await proxy?.close();
    await t?.close();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    if (proxied?.isInitialized) await proxied.destroy().catch(() => undefined);
    proxy = proxied = queue = t = undefined;
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('resolves with the stored event, which is in the queue, within storeTimeoutMs', async () => {
    const target = new URL(testDatabaseUrl());
    proxy = await startFreezableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const freezable = proxy;
    proxied = new DataSource({
      type: 'postgres',
      url: freezable.rewrite(db.url),
      entities: eventBusEntities,
      installExtensions: false,
      poolSize: 4,
    });
    await proxied.initialize();

    // The bus's own queue, whose adds really reach Redis; the database freezes right after one.
    const prefix = uniquePrefix('publish-postgres-freezes');
    queue = new Queue(`events-${prefix}`, { connection: testRedisConnection(), prefix });
    // A lone event is one `add`, a batch one `addBulk`: either freezes the database once it returned.
    const add = queue.add.bind(queue);
    const addBulk = queue.addBulk.bind(queue);
    let freezeAfterAdd = false;
    queue.add = async (...args: Parameters<Queue['add']>) => {
      const added = await add(...args);
      if (freezeAfterAdd) freezable.freeze();
      return added;
    };
    queue.addBulk = async (jobs) => {
      const added = await addBulk(jobs);
      if (freezeAfterAdd) freezable.freeze();
      return added;
    };
    t = await createTestBus({
      db,
      backend: 'redis',
      suite: 'publish-postgres-freezes',
      eventStore: new PersistentEventStore(new EventStoreRepository(proxied)),
      queue,
      queueName: queue.name,
      prefix,
      worker: false,
      relay: false,
      storeTimeoutMs: 500,
      enqueueTimeoutMs: 1000,
      shutdownTimeoutMs: 500,
    });

    freezeAfterAdd = true;
    const outcome = await Promise.race([
      t.bus.publish(newEvent('frozen.after.insert')).then((event) => ({ event })),
      new Promise<{ timedOut: true }>((resolve) => setTimeout(() => resolve({ timedOut: true }), 10_000).unref()),
    ]);

    expect(outcome).toHaveProperty('event');
    const { event } = outcome as { event: { id: string; status: string } };
    expect(event.status).toBe('pending');
    // Nothing of it was lost: the job is in the queue, and the row is in the (real) database.
    expect(await queue.getJobState(event.id)).not.toBe('unknown');
    const rows: Array<{ id: string }> = await db.dataSource.query('SELECT id FROM event_store WHERE id = $1', [
      event.id,
    ]);
    expect(rows).toHaveLength(1);

    // The job-id record, which follows publish, gives up within storeTimeoutMs; close() waits for
    // that (nothing of the bus runs after it) and no longer than that.
    await t.bus.close();
    expect(t.logger.find('warn', 'Could not record the job ids of 1 enqueued event(s)')).toHaveLength(1);
    expect(t.logger.find('warn', 'Stopped waiting')).toHaveLength(0);
  }, 30_000);
});
