import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventContext, StoredEvent } from '@app/event-bus';
import { handlerJobId } from '../../libs/event-bus/src/transport/bullmq/jobs/event-jobs.js';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deliveryRecords, newEvent, waitForJobState, waitForStatus } from './delivery-helpers.js';

/**
 * A dead letter is a failed BullMQ job under the bus's prefix, and people retry it from Bull Board
 * (which calls `job.retry()`). That is the library's work too: when the retried job succeeds, the
 * event and its failure records end as if `retryFailed` had re-driven the delivery. And `retryFailed`
 * leaves no failed job behind for a delivery it re-drove.
 */
describe.each(transportBackends())('deliveries retried outside the library (%s backend)', (backend) => {
  let db: TestDatabase;
  let t: TestBus;
  /** Events whose `healing` handler succeeds from now on. */
  const healed = new Set<string>();
  const calls: Array<{ eventId: string; attempt: number }> = [];

  beforeAll(async () => {
    db = await createTestDatabase(`delivery-retried-outside-${backend}`);
    t = await createTestBus({ db, backend, suite: 'delivery-retried-outside', initialize: false });
    await t.bus.subscribe(
      'order.*',
      async (event: StoredEvent, context: EventContext) => {
        calls.push({ eventId: event.id, attempt: context.attempt });
        if (!healed.has(event.id)) throw new Error(`healing is not ready for ${event.id}`);
      },
      { name: 'healing', retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 10 } } },
    );
    await t.bus.subscribe('order.*', async () => undefined, { name: 'steady' });
    await t.bus.initialize();
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  /** Publishes an event and waits until `healing` exhausted its policy on it (a failed handler job). */
  const exhausted = async (): Promise<{ id: string; jobId: string }> => {
    const event = await t.bus.publish(newEvent('order.placed'));
    await waitForStatus(db.dataSource, [event.id], 'failed');
    const jobId = handlerJobId(event.id, 'healing');
    await waitForJobState(t.inspect(), jobId, 'failed');
    return { id: event.id, jobId };
  };

  it('a failed handler job retried with job.retry() that succeeds processes the event and clears the failure', async () => {
    const { id, jobId } = await exhausted();
    healed.add(id);

    const job = await t.inspect().getJob(jobId);
    await job!.retry('failed');

    await waitForStatus(db.dataSource, [id], 'processed');
    expect(await t.bus.getFailedDeliveries({ eventId: id })).toEqual([]);
    expect(await t.bus.retryFailed({ eventId: id })).toBe(0);
    const records = await deliveryRecords(db.dataSource, id);
    expect(records.get('healing')).toMatchObject({ status: 'succeeded' });
    await waitForJobState(t.inspect(), jobId, 'completed');
  });

  it('retryFailed leaves no failed job of the delivery it re-drove', async () => {
    const { id, jobId } = await exhausted();
    healed.add(id);

    expect(await t.bus.retryFailed({ eventId: id })).toBe(1);
    await waitForStatus(db.dataSource, [id], 'processed');
    const failedJobs = await t.inspect().getJobs(['failed']);
    expect(failedJobs.filter((job) => job.data?.event?.id === id)).toEqual([]);
    expect(await t.inspect().getJobState(jobId)).toBe('unknown');
  });
});
