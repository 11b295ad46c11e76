import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestBus, type TestBus } from '../support/bus.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { allProcessed, eventRows, newEvent } from './bus-fixtures.js';

/**
 * Lost-job recovery after Redis lost its data (here: a queue's first start, which looks the same)
 * looks at every unfinished event, but a `pending` one without a job id is not its business: a
 * publish may be enqueueing it at this very moment, and the relay takes it once its grace is over.
 * Re-adding it would race that publish and cry "Redis had lost its data" over nothing.
 */
describe('lost-job recovery and events still being published', () => {
  let db: TestDatabase;
  let t: TestBus | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('recovery-leaves-publishes');
  });

  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('leaves a young un-enqueued event to the relay, which delivers it', async () => {
    const delivered: string[] = [];
    t = await createTestBus({
      db,
      backend: 'redis',
      suite: 'recovery-leaves-publishes',
      // A grace long enough that the relay cannot have taken the row before recovery's first look.
      relay: { intervalMs: 200, graceMs: 3000, lostJobCheckIntervalMs: 60_000 },
      initialize: false,
    });
    await t.bus.subscribe('workflow.node.triggered', async (event) => void delivered.push(event.id), {
      name: 'recorder',
    });
    // Stored, not enqueued: what a publish between its INSERT and its `addBulk` leaves.
    const stored = await t.eventStore.save(newEvent());
    expect((await eventRows(db, [stored.id]))[0]).toMatchObject({ status: 'pending', job_id: null });

    await t.bus.initialize();
    await waitFor(() => allProcessed(db, [stored.id]), { message: 'the event processed' });

    expect(t.logger.find('warn', 'had lost its data')).toEqual([]);
    expect(delivered).toEqual([stored.id]);
  }, 30_000);
});
