import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Job } from 'bullmq';
import type { StoredEvent } from '@app/event-bus';
import { eventBatchJob } from '../../libs/event-bus/src/transport/bullmq/jobs/event-job-options.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { CallLog, allProcessed, eventRows, newEvent } from '../bus/bus-fixtures.js';
import { deliveryRecords } from './delivery-helpers.js';

/** The relay and the lost-job check stay out of the way: these tests add and look at jobs themselves. */
const QUIET_RELAY = { intervalMs: 60_000, graceMs: 60_000, lostJobCheckIntervalMs: 60_000 };

/**
 * DESIGN.md 6.4: a publish batch goes to the queue in jobs of at most `jobBatchSize` events; every
 * per-event guarantee holds inside a batch (per-handler retries, sibling isolation, statuses), and a
 * batch job delivered again does not run the handlers of events already processed.
 */
describe.each(transportBackends())('batched delivery (%s backend)', (backend) => {
  let db: TestDatabase;
  const buses: TestBus[] = [];

  const bus = async (options: Parameters<typeof createTestBus>[0]): Promise<TestBus> => {
    const created = await createTestBus(options);
    buses.push(created);
    return created;
  };

  beforeAll(async () => {
    db = await createTestDatabase(`delivery-batches-${backend}`);
  });

  afterEach(async () => {
    // Workers on a shared queue first, then the bus that owns (and empties) it.
    for (const created of buses.splice(0).reverse()) await created.close();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('sends a publishAll in jobs of at most jobBatchSize events, each row recording its job', async () => {
    const publisher = await bus({ db, backend, suite: 'delivery-batches', worker: false, jobBatchSize: 4 });
    const events = Array.from({ length: 10 }, (_, index) => newEvent({ payload: { index } }));
    const stored = await publisher.bus.publishAll(events);
    const ids = stored.map((event) => event.id);

    const expectedJobs = [
      `batch__${ids[0]}`,
      `batch__${ids[0]}`,
      `batch__${ids[0]}`,
      `batch__${ids[0]}`,
      `batch__${ids[4]}`,
      `batch__${ids[4]}`,
      `batch__${ids[4]}`,
      `batch__${ids[4]}`,
      `batch__${ids[8]}`,
      `batch__${ids[8]}`,
    ];
    expect(stored.map((event) => event.metadata?.jobId)).toEqual(expectedJobs);
    // The job ids are recorded after publish resolves (DESIGN.md 6.4).
    await waitFor(async () => (await eventRows(db, ids)).every((row) => row.job_id !== null), {
      message: 'the job ids recorded',
    });
    expect((await eventRows(db, ids)).map((row) => row.job_id)).toEqual(expectedJobs);
    const waiting = await publisher.inspect().getJobs(['wait']);
    expect(waiting.map((job) => [job.id, eventIdsOf(job).length]).sort()).toEqual(
      [
        [`batch__${ids[0]}`, 4],
        [`batch__${ids[4]}`, 4],
        [`batch__${ids[8]}`, 2],
      ].sort(),
    );

    const log = new CallLog();
    const worker = await bus({ db, backend, suite: 'delivery-batches', sameQueueAs: publisher, initialize: false });
    await worker.bus.subscribe('workflow.**', log.handler, { name: 'recorder' });
    await worker.bus.initialize();
    await waitFor(() => allProcessed(db, ids), { message: 'the ten events processed' });
    expect(ids.map((id) => log.count(id))).toEqual(ids.map(() => 1));
    // Each handler saw the job that delivered it.
    expect(log.calls.map((event) => event.metadata?.jobId).sort()).toEqual([...expectedJobs].sort());
  });

  it('retries only the failing handler of one event in a batch; its siblings and the other events run once', async () => {
    const t = await bus({ db, backend, suite: 'delivery-batches', initialize: false, relay: QUIET_RELAY });
    const steady = new CallLog();
    const flakyCalls: string[] = [];
    let failing = '';
    await t.bus.subscribe('workflow.**', steady.handler, { name: 'steady' });
    await t.bus.subscribe(
      'workflow.**',
      async (event: StoredEvent) => {
        flakyCalls.push(event.id);
        if (event.id === failing && flakyCalls.filter((id) => id === failing).length === 1) {
          throw new Error('first try fails');
        }
      },
      { name: 'flaky', retry: { maxAttempts: 3, backoff: { type: 'fixed', delay: 20 } } },
    );
    await t.bus.initialize();
    const events = Array.from({ length: 6 }, (_, index) => newEvent({ payload: { index } }));
    failing = events[2].id!;

    const stored = await t.bus.publishAll(events);
    const ids = stored.map((event) => event.id);
    expect(new Set(stored.map((event) => event.metadata?.jobId))).toEqual(new Set([`batch__${ids[0]}`]));
    await waitFor(() => allProcessed(db, ids), { message: 'the six events processed' });

    expect(ids.map((id) => steady.count(id))).toEqual(ids.map(() => 1));
    expect(ids.map((id) => flakyCalls.filter((call) => call === id).length)).toEqual([1, 1, 2, 1, 1, 1]);
    const records = await deliveryRecords(db.dataSource, failing);
    expect(records.get('flaky')).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(records.get('steady')).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('does not run the handlers of events already processed when a batch job is delivered again', async () => {
    const t = await bus({ db, backend, suite: 'delivery-batches', initialize: false, relay: QUIET_RELAY });
    const log = new CallLog();
    await t.bus.subscribe('workflow.**', log.handler, { name: 'recorder' });
    await t.bus.initialize();
    const done = await t.bus.publishAll([newEvent(), newEvent()]);
    await waitFor(
      () =>
        allProcessed(
          db,
          done.map((event) => event.id),
        ),
      { message: 'the first two processed' },
    );
    // Stored, never delivered: as if the worker crashed before reaching it.
    const [undelivered] = (await t.eventStore.append([newEvent()])).map((entry) => entry.event);

    // The same events in a job delivered again (a stalled job, a retry, a recovery re-add).
    const again = eventBatchJob([...done, undelivered]);
    await t.inspect().addBulk([{ ...again, opts: { ...again.opts, jobId: `again__${undelivered.id}` } }]);

    await waitFor(() => allProcessed(db, [undelivered.id]), { message: 'the undelivered event processed' });
    expect(log.count(undelivered.id)).toBe(1);
    expect(done.map((event) => log.count(event.id))).toEqual([1, 1]);
  });

  it('coalesces concurrent publish calls into batch jobs, each caller getting its own event', async () => {
    const t = await bus({ db, backend, suite: 'delivery-batches', initialize: false, relay: QUIET_RELAY });
    const log = new CallLog();
    await t.bus.subscribe('workflow.**', log.handler, { name: 'recorder' });
    await t.bus.initialize();
    const events = Array.from({ length: 40 }, (_, index) => newEvent({ payload: { index } }));

    const stored = await Promise.all(events.map((event) => t.bus.publish(event)));

    expect(stored.map((event) => event.id)).toEqual(events.map((event) => event.id));
    const ids = stored.map((event) => event.id);
    await waitFor(() => allProcessed(db, ids), { message: 'the forty events processed' });
    expect(ids.map((id) => log.count(id))).toEqual(ids.map(() => 1));
    // Fewer jobs than events: the calls that met in one publish batch shared a job.
    expect(new Set(stored.map((event) => event.metadata?.jobId)).size).toBeLessThan(ids.length);
  });
});

function eventIdsOf(job: Job): string[] {
  const data = job.data as { event?: StoredEvent; events?: StoredEvent[] };
  return data.events ? data.events.map((event) => event.id) : [data.event!.id];
}
