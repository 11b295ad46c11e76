import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { newEvent, waitForStatus } from './delivery-helpers.js';

/**
 * `concurrency` bounds the events whose handlers run at once in a worker process, although the
 * worker takes more jobs than that from the queue (so committing a job's outcome overlaps the next
 * one's handlers): the extra jobs wait for a handler slot.
 */
describe.each(transportBackends())('handler concurrency (%s backend)', (backend) => {
  const concurrency = 2;
  let db: TestDatabase;
  let t: TestBus;
  let running = 0;
  let mostAtOnce = 0;
  const started: string[] = [];
  const gates = new Map<string, () => void>();

  beforeAll(async () => {
    db = await createTestDatabase(`handler-concurrency-${backend}`);
    t = await createTestBus({ db, backend, suite: 'handler-concurrency', concurrency, initialize: false });
    // Two handlers per event: an event's handlers share one slot, so they may run side by side.
    const hold = (name: string) => async (event: { id: string }) => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      started.push(`${name}:${event.id}`);
      await new Promise<void>((release) => gates.set(`${name}:${event.id}`, release));
      running--;
    };
    await t.bus.subscribe('work.item', hold('first'), { name: 'first' });
    await t.bus.subscribe('work.item', hold('second'), { name: 'second' });
    await t.bus.initialize();
  });

  afterAll(async () => {
    for (const release of gates.values()) release();
    await t?.close();
    await db?.drop();
  });

  it('runs the handlers of at most `concurrency` events at once, and delivers every event', async () => {
    const events = await t.bus.publishAll(Array.from({ length: 6 }, () => newEvent('work.item')));
    const ids = events.map((event) => event.id);

    // Two events' handlers start (four calls); the other events wait for a slot.
    await waitFor(() => started.length === 2 * concurrency, {
      timeoutMs: 10_000,
      message: 'the first handlers to start',
    });
    // Jobs beyond the slots are taken from the queue by now (BullMQ fetches twice as many), and must stay waiting.
    await waitFor(async () => (await t.inspect().getActiveCount()) > concurrency, {
      timeoutMs: 10_000,
      message: 'the worker to take more jobs than it has slots',
    });
    expect(running).toBe(2 * concurrency);
    expect(new Set(started.map((call) => call.split(':')[1])).size).toBe(concurrency);

    // Release calls as they start, until every event is through.
    const releaser = setInterval(() => {
      for (const [key, release] of gates) {
        gates.delete(key);
        release();
      }
    }, 5);
    try {
      await waitForStatus(db.dataSource, ids, 'processed');
    } finally {
      clearInterval(releaser);
    }
    expect(started).toHaveLength(2 * ids.length);
    // Each event's two handlers run together, so at most two events' worth of calls at any time.
    expect(mostAtOnce).toBe(2 * concurrency);
  });
});
