import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NonRetryableEventError, type StoredEvent } from '@app/event-bus';
import { handlerJobId } from '../../libs/event-bus/src/transport/bullmq/jobs/event-jobs.js';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deliveryRecords, newEvent, waitForJobState, waitForStatus } from './delivery-helpers.js';

/**
 * A delivery that failed on its first try with no retry allowed (`maxAttempts: 1`, or the handler
 * threw `NonRetryableEventError`) is a dead letter in the queue like an exhausted one: a failed
 * handler job with the handler's own message and stack, reached without calling the handler again.
 * Retrying that job from outside the library runs the handler and reconciles the event, and
 * `retryFailed` re-drives it without leaving the failed job behind.
 */
describe.each(transportBackends())('dead letters of a first try not retried (%s backend)', (backend) => {
  let db: TestDatabase;
  let t: TestBus;
  /** Events whose handlers succeed from now on. */
  const healed = new Set<string>();
  /** Each handler's calls, by event id. */
  const calls = new Map<string, string[]>();
  /** The errors the handlers threw, by event id (the last one). */
  const thrown = new Map<string, Error>();

  const record = (handler: string, event: StoredEvent): boolean => {
    calls.set(event.id, [...(calls.get(event.id) ?? []), handler]);
    return healed.has(event.id);
  };

  beforeAll(async () => {
    db = await createTestDatabase(`delivery-first-try-dead-${backend}`);
    t = await createTestBus({ db, backend, suite: 'delivery-first-try-dead', initialize: false });
    await t.bus.subscribe(
      'order.once',
      async function onceHandlerBody(event: StoredEvent) {
        if (record('once', event)) return;
        const error = new Error(`once broke on ${event.id}`);
        thrown.set(event.id, error);
        throw error;
      },
      { name: 'once', retry: { maxAttempts: 1, backoff: { type: 'fixed', delay: 10 } } },
    );
    await t.bus.subscribe(
      'order.refused',
      async function refusingHandlerBody(event: StoredEvent) {
        if (record('refusing', event)) return;
        const error = new NonRetryableEventError(`refused ${event.id}`);
        thrown.set(event.id, error);
        throw error;
      },
      // Attempts left that a NonRetryableEventError must not use.
      { name: 'refusing', retry: { maxAttempts: 3, backoff: { type: 'fixed', delay: 10 } } },
    );
    await t.bus.initialize();
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const cases = [
    { why: 'maxAttempts: 1', type: 'order.once', handler: 'once', frame: 'onceHandlerBody' },
    { why: 'NonRetryableEventError', type: 'order.refused', handler: 'refusing', frame: 'refusingHandlerBody' },
  ];

  /** Publishes an event and waits for its delivery's failed handler job. */
  const deadLetter = async (type: string, handler: string): Promise<{ id: string; jobId: string }> => {
    const event = await t.bus.publish(newEvent(type));
    const jobId = handlerJobId(event.id, handler);
    await waitForJobState(t.inspect(), jobId, 'failed');
    await waitForStatus(db.dataSource, [event.id], 'failed');
    return { id: event.id, jobId };
  };

  it.each(cases)(
    "$why: a failed handler job with the handler's message and stack, the handler called once",
    async ({ type, handler, frame }) => {
      const { id, jobId } = await deadLetter(type, handler);

      const job = await t.inspect().getJob(jobId);
      const error = thrown.get(id)!;
      expect(job!.failedReason).toBe(error.message);
      expect((job!.stacktrace ?? []).at(-1)).toBe(error.stack);
      expect(error.stack).toContain(frame);
      expect(calls.get(id)).toEqual([handler]);
      expect((await deliveryRecords(db.dataSource, id)).get(handler)).toMatchObject({
        status: 'failed',
        attempts: 1,
        job_id: jobId,
      });
      expect(await t.bus.getFailedDeliveries({ eventId: id })).toEqual([
        expect.objectContaining({ handler, attempts: 1 }),
      ]);
    },
  );

  it.each(cases)(
    '$why: job.retry() of the dead letter runs the handler; its success processes the event',
    async ({ type, handler }) => {
      const { id, jobId } = await deadLetter(type, handler);
      healed.add(id);

      const job = await t.inspect().getJob(jobId);
      await job!.retry('failed');

      await waitForStatus(db.dataSource, [id], 'processed');
      await waitForJobState(t.inspect(), jobId, 'completed');
      expect(calls.get(id)).toEqual([handler, handler]);
      expect(await t.bus.getFailedDeliveries({ eventId: id })).toEqual([]);
      expect((await deliveryRecords(db.dataSource, id)).get(handler)).toMatchObject({ status: 'succeeded' });
    },
  );

  it.each(cases)('$why: retryFailed re-drives it and leaves no failed job behind', async ({ type, handler }) => {
    const { id, jobId } = await deadLetter(type, handler);
    healed.add(id);

    expect(await t.bus.retryFailed({ eventId: id })).toBe(1);
    await waitForStatus(db.dataSource, [id], 'processed');
    expect(calls.get(id)).toEqual([handler, handler]);
    const failedJobs = await t.inspect().getJobs(['failed']);
    expect(failedJobs.filter((failed) => failed.data?.event?.id === id)).toEqual([]);
    expect(await t.inspect().getJobState(jobId)).toBe('unknown');
  });
});
