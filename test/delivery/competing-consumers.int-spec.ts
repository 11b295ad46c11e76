import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DataSource } from 'typeorm';
import { eventBusEntities, EventStoreRepository, PersistentEventStore, type StoredEvent } from '@app/event-bus';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { newEvent, waitForStatus } from './delivery-helpers.js';

const EVENTS = 200;

describe.each(transportBackends())('two bus instances sharing one queue (%s backend)', (backend) => {
  let db: TestDatabase;
  let secondDataSource: DataSource;
  const instances: TestBus[] = [];
  /** Calls per event id, per instance. */
  const handled: Array<Map<string, number>> = [new Map(), new Map()];

  beforeAll(async () => {
    db = await createTestDatabase(`delivery-competing-${backend}`);
    // Nothing shared but the services: the second instance has its own DataSource, store, registry and queue handles.
    secondDataSource = await new DataSource({
      type: 'postgres',
      url: db.url,
      entities: eventBusEntities,
      poolSize: 5,
    }).initialize();
    for (const index of [0, 1]) {
      const t = await createTestBus({
        db,
        backend,
        suite: 'delivery-competing',
        concurrency: 4,
        // Competing consumers share jobs, and a batch job's events go to one instance (DESIGN.md 6.4).
        // Jobs of 5 events make 40 jobs, more than one instance holds (concurrency + prefetch = 16):
        // the other is sure to get some, whatever order the queue hands them out in.
        jobBatchSize: 5,
        initialize: false,
        sameQueueAs: instances[0],
        ...(index === 1 ? { eventStore: new PersistentEventStore(new EventStoreRepository(secondDataSource)) } : {}),
      });
      const other = 1 - index;
      await t.bus.subscribe(
        'load.*',
        async (event: StoredEvent) => {
          const mine = handled[index];
          mine.set(event.id, (mine.get(event.id) ?? 0) + 1);
          // The first jobs wait until the other instance has taken one too, so both must do work
          // whatever order the queue hands jobs out in.
          await waitFor(() => handled[other].size > 0, { timeoutMs: 20_000, message: `instance ${other} started` });
        },
        { name: 'load-handler' },
      );
      await t.bus.initialize();
      instances.push(t);
    }
  });

  afterAll(async () => {
    for (const t of [...instances].reverse()) await t.close();
    if (secondDataSource?.isInitialized) await secondDataSource.destroy();
    await db?.drop();
  });

  it('delivers every event once in total, and both instances take part', async () => {
    const events = await instances[0].bus.publishAll(
      Array.from({ length: EVENTS }, (_, n) => newEvent('load.tick', { payload: { n } })),
    );
    await waitForStatus(
      db.dataSource,
      events.map((event) => event.id),
      'processed',
      30_000,
    );

    const total = new Map<string, number>();
    for (const counts of handled) {
      for (const [id, count] of counts) total.set(id, (total.get(id) ?? 0) + count);
    }
    expect(total.size).toBe(EVENTS);
    expect([...total.values()].filter((count) => count !== 1)).toEqual([]);
    expect(handled[0].size).toBeGreaterThan(0);
    expect(handled[1].size).toBeGreaterThan(0);
  });
});
