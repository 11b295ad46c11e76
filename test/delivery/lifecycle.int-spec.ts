import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { gate, newEvent, statusOf, waitForStatus } from './delivery-helpers.js';

describe.each(transportBackends())('event status and shutdown (%s backend)', (backend) => {
  let db: TestDatabase;
  let buses: TestBus[] = [];

  beforeAll(async () => {
    db = await createTestDatabase(`delivery-lifecycle-${backend}`);
  });

  afterEach(async () => {
    // Workers before the bus that owns the queue (the first), which empties it.
    for (const t of buses.reverse()) await t.close();
    buses = [];
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('moves an event pending → processing (while its handler runs) → processed', async () => {
    const publisher = await createTestBus({ db, backend, suite: 'delivery-status', worker: false });
    buses.push(publisher);
    const event = await publisher.bus.publish(newEvent('status.observed'));
    expect(await statusOf(db.dataSource, event.id)).toBe('pending');

    const held = gate();
    let started = false;
    const worker = await createTestBus({
      db,
      backend,
      suite: 'delivery-status',
      sameQueueAs: publisher,
      initialize: false,
    });
    buses.push(worker);
    await worker.bus.subscribe(
      'status.observed',
      async () => {
        started = true;
        await held.promise;
      },
      { name: 'slow' },
    );
    try {
      await worker.bus.initialize();
      await waitFor(() => started, { message: 'handler started' });
      // The mark is written once the handler has run for a moment (PROCESSING_MARK_DELAY_MS), not at once.
      await waitForStatus(db.dataSource, [event.id], 'processing');
    } finally {
      // Released whatever happened above, so closing the worker does not wait for it forever.
      held.open();
    }
    await waitForStatus(db.dataSource, [event.id], 'processed');
  });

  it('close() waits for a running handler, and its event ends processed', async () => {
    const t = await createTestBus({ db, backend, suite: 'delivery-shutdown', initialize: false });
    buses.push(t);
    const held = gate();
    const order: string[] = [];
    let started = false;
    await t.bus.subscribe(
      'shutdown.pending',
      async () => {
        started = true;
        await held.promise;
        order.push('handler finished');
      },
      { name: 'long-running' },
    );
    await t.bus.initialize();
    const event = await t.bus.publish(newEvent('shutdown.pending'));
    await waitFor(() => started, { message: 'handler started' });

    const closing = t.bus.close().then(() => order.push('bus closed'));
    // Give a close that does not wait every chance to finish first; then let the handler finish.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(order).toEqual([]);
    held.open();
    await closing;

    expect(order).toEqual(['handler finished', 'bus closed']);
    expect(await statusOf(db.dataSource, event.id)).toBe('processed');
    // A second close is a no-op.
    await expect(t.bus.close()).resolves.toBeUndefined();
  });
});
