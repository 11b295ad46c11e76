import { afterEach, describe, expect, it } from '@jest/globals';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { newEvent, waitForStatus } from './delivery-helpers.js';

/**
 * `concurrency` bounds the events whose handlers run at once in a worker process; `prefetch` is
 * how many more jobs the worker takes from the queue, to wait there for a handler slot (so that
 * committing one job's outcome overlaps the next one's handlers).
 */
describe.each(transportBackends())('handler concurrency and prefetch (%s backend)', (backend) => {
  const concurrency = 2;
  let db: TestDatabase | undefined;
  let t: TestBus | undefined;
  const gates = new Map<string, () => void>();
  /** Set once a test is over: handlers that start later (prefetched jobs) return at once, so close() can finish. */
  let letThrough = false;

  /** A bus whose two handlers per `work.item` event wait until released; counts what runs at once. */
  async function holdingBus(prefetch?: number, jobBatchSize = 1) {
    const state = { running: 0, mostAtOnce: 0, started: [] as string[] };
    db = await createTestDatabase(`handler-concurrency-${backend}-${prefetch ?? 'default'}`);
    t = await createTestBus({
      db,
      backend,
      suite: 'handler-concurrency',
      concurrency,
      ...(prefetch === undefined ? {} : { prefetch }),
      // One job per event where the test is about jobs taken from the queue (prefetch).
      jobBatchSize,
      initialize: false,
    });
    // Two handlers per event: an event's handlers share one slot, so they run side by side.
    const hold = (name: string) => async (event: { id: string }) => {
      state.running++;
      state.mostAtOnce = Math.max(state.mostAtOnce, state.running);
      state.started.push(`${name}:${event.id}`);
      if (!letThrough) await new Promise<void>((release) => gates.set(`${name}:${event.id}`, release));
      state.running--;
    };
    await t.bus.subscribe('work.item', hold('first'), { name: 'first' });
    await t.bus.subscribe('work.item', hold('second'), { name: 'second' });
    await t.bus.initialize();
    const ids = (await t.bus.publishAll(Array.from({ length: 6 }, () => newEvent('work.item')))).map((e) => e.id);
    await waitFor(() => state.started.length === 2 * concurrency, { message: 'the first handlers to start' });
    return { state, ids, bus: t };
  }

  /** Releases handler calls as they start, until every event is `processed`. */
  async function releaseAll(ids: string[]): Promise<void> {
    const releaser = setInterval(() => {
      for (const [key, release] of gates) {
        gates.delete(key);
        release();
      }
    }, 5);
    try {
      await waitForStatus(db!.dataSource, ids, 'processed');
    } finally {
      clearInterval(releaser);
    }
  }

  afterEach(async () => {
    letThrough = true;
    for (const release of gates.values()) release();
    gates.clear();
    await t?.close();
    await db?.drop();
    t = undefined;
    db = undefined;
    letThrough = false;
  });

  it('runs the handlers of at most `concurrency` events at once; prefetched jobs wait for a slot', async () => {
    const { state, ids, bus } = await holdingBus();
    // The default prefetch lets the worker take the other four jobs too: they must stay waiting.
    await waitFor(async () => (await bus.inspect().getActiveCount()) === ids.length, {
      message: 'the worker to take every job, more than it has handler slots',
    });
    expect(state.running).toBe(2 * concurrency);
    expect(new Set(state.started.map((call) => call.split(':')[1])).size).toBe(concurrency);

    await releaseAll(ids);
    expect(state.started).toHaveLength(2 * ids.length);
    expect(state.mostAtOnce).toBe(2 * concurrency);
  });

  it('runs at most `concurrency` events of one batch job at once', async () => {
    const { state, ids, bus } = await holdingBus(undefined, 100);
    expect(await bus.inspect().getActiveCount()).toBe(1);
    expect(state.running).toBe(2 * concurrency);
    expect(new Set(state.started.map((call) => call.split(':')[1])).size).toBe(concurrency);

    await releaseAll(ids);
    expect(state.started).toHaveLength(2 * ids.length);
    expect(state.mostAtOnce).toBe(2 * concurrency);
  });

  it('with prefetch 0, takes no more jobs than it has handler slots', async () => {
    const { state, ids, bus } = await holdingBus(0);
    // A bounded look for the opposite: with any prefetch the worker takes more within milliseconds.
    const tookMore = await waitFor(async () => (await bus.inspect().getActiveCount()) > concurrency, {
      timeoutMs: 500,
      intervalMs: 20,
    }).then(
      () => true,
      () => false,
    );
    expect(tookMore).toBe(false);
    expect(await bus.inspect().getWaitingCount()).toBe(ids.length - concurrency);

    await releaseAll(ids);
    expect(state.started).toHaveLength(2 * ids.length);
    expect(state.mostAtOnce).toBe(2 * concurrency);
  });
});
