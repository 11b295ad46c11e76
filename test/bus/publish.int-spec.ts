import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventBusNotReadyError, EventConflictError, EventValidationError } from '@app/event-bus';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import {
  CallLog,
  allProcessed,
  removeFinishedJob,
  countEvents,
  eventRows,
  jobIdsRecorded,
  newEvent,
} from './bus-fixtures.js';

describe.each(transportBackends())('publish (%s backend)', (backend) => {
  let db: TestDatabase;
  let t: TestBus;
  const log = new CallLog();

  beforeAll(async () => {
    db = await createTestDatabase(`bus-publish-${backend}`);
    t = await createTestBus({ db, backend, suite: 'bus-publish' });
    await t.bus.subscribe('**', log.handler, { name: 'recorder' });
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('stores, enqueues under the event id, records the job id, and delivers', async () => {
    const published = await t.bus.publish(newEvent({ payload: { nodeId: 'n-1' } }));

    expect(published.status).toBe('pending');
    expect(published.metadata?.jobId).toBe(published.id);
    const job = await t.inspect().getJob(published.id);
    expect(job?.id).toBe(published.id);
    // The job id is recorded after publish resolves (by the publisher, or the worker's status write).
    await waitFor(async () => (await eventRows(db, [published.id]))[0]?.job_id === job?.id, {
      message: 'the job id recorded',
    });

    await waitFor(() => allProcessed(db, [published.id]), { message: 'the event processed' });
    expect(log.count(published.id)).toBe(1);
    expect(log.calls.find((event) => event.id === published.id)?.payload).toEqual({ nodeId: 'n-1' });
  });

  it('publishAll stores a batch in order, enqueues every event and delivers them', async () => {
    const events = [newEvent({ type: 'workflow.started' }), newEvent(), newEvent({ type: 'workflow.completed' })];
    const published = await t.bus.publishAll(events);

    expect(published.map((event) => event.id)).toEqual(events.map((event) => event.id));
    const sequences = published.map((event) => event.sequenceNumber);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    // One job for the batch (DESIGN.md 6.4), named after its first event.
    expect(published.map((event) => event.metadata?.jobId)).toEqual(events.map(() => `batch__${events[0].id}`));
    await waitFor(() => jobIdsRecorded(db, published), { message: 'the job ids recorded' });

    await waitFor(
      () =>
        allProcessed(
          db,
          events.map((event) => event.id!),
        ),
      { message: 'the batch processed' },
    );
    expect(events.map((event) => log.count(event.id!))).toEqual([1, 1, 1]);
  });

  it('publishing the same event again resolves to the stored original and delivers nothing again', async () => {
    const event = newEvent({ payload: { nodeId: 'once', items: [1, 2] } });
    const first = await t.bus.publish(event);
    await waitFor(() => allProcessed(db, [first.id]), { message: 'the first delivery' });
    // Without its finished job in the queue, a second enqueue would deliver again: only the bus can prevent it.
    await removeFinishedJob(t, first.id);

    const again = await t.bus.publish({ ...event, payload: { items: [1, 2], nodeId: 'once' } });
    expect(again.sequenceNumber).toBe(first.sequenceNumber);
    expect(again.status).toBe('processed');
    expect(await t.inspect().getJob(first.id)).toBeUndefined();

    // A later event is delivered: had the duplicate been enqueued, it would have been delivered too by now.
    const later = await t.bus.publish(newEvent());
    await waitFor(() => allProcessed(db, [later.id]), { message: 'a later event' });
    expect(await t.inspect().getJob(first.id)).toBeUndefined();
    expect(log.count(first.id)).toBe(1);
  });

  it('rejects the same id with different content, changing nothing', async () => {
    const event = newEvent({ payload: { nodeId: 'original' } });
    const stored = await t.bus.publish(event);

    await expect(t.bus.publish({ ...event, payload: { nodeId: 'changed' } })).rejects.toThrow(EventConflictError);
    const [row] = await eventRows(db, [stored.id]);
    expect(row?.sequence_number).toBe(String(stored.sequenceNumber));
    expect((await t.eventStore.findById(stored.id))?.payload).toEqual({ nodeId: 'original' });
  });

  it('rejects an invalid event before anything is stored or enqueued', async () => {
    await waitFor(async () => (await t.inspect().getJobCounts('wait', 'active', 'delayed')).wait === 0, {
      message: 'an idle queue',
    });
    const before = { rows: await countEvents(db), jobs: await jobTotal(t) };

    const invalid = newEvent({ type: 'workflow..bad', tenantId: 'not-a-uuid' });
    const error = await t.bus.publish(invalid).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(EventValidationError);
    expect((error as EventValidationError).issues.map((issue) => issue.field).sort()).toEqual(['tenantId', 'type']);
    expect((error as EventValidationError).index).toBeUndefined();
    await expect(t.bus.publishAll([newEvent(), { ...newEvent(), payload: undefined }])).rejects.toThrow(
      EventValidationError,
    );

    expect(await countEvents(db)).toBe(before.rows);
    expect(await jobTotal(t)).toBe(before.jobs);
  });

  it('coalesces 200 concurrent publishes into a few batches, and stores and delivers every one', async () => {
    const events = Array.from({ length: 200 }, (_, index) => newEvent({ payload: { index } }));
    const published = await Promise.all(events.map((event) => t.bus.publish(event)));

    expect(published.map((event) => event.id)).toEqual(events.map((event) => event.id));
    expect(new Set(published.map((event) => event.sequenceNumber)).size).toBe(200);
    const ids = events.map((event) => event.id!);
    // Rows written by one INSERT share its transaction: far fewer transactions than publishes.
    const [{ transactions }] = await db.dataSource.query<{ transactions: string }[]>(
      'SELECT count(DISTINCT transaction_id::text) AS transactions FROM event_store WHERE id = ANY($1::uuid[])',
      [ids],
    );
    expect(Number(transactions)).toBeLessThan(50);
    // And far fewer jobs: a publish batch goes to the queue in batch jobs.
    expect(new Set(published.map((event) => event.metadata?.jobId)).size).toBeLessThan(50);
    await waitFor(() => jobIdsRecorded(db, published), { message: 'the job ids recorded' });

    await waitFor(() => allProcessed(db, ids), { message: '200 events processed', timeoutMs: 20_000 });
    expect(ids.every((id) => log.count(id) === 1)).toBe(true);
  });

  it('fails only the offending calls of a coalesced batch', async () => {
    const original = newEvent({ payload: { nodeId: 'kept' } });
    await t.bus.publish(original);
    const good = [newEvent(), newEvent(), newEvent()];
    const results = await Promise.allSettled([
      t.bus.publish(good[0]),
      t.bus.publish({ ...original, payload: { nodeId: 'conflicting' } }),
      t.bus.publish(good[1]),
      t.bus.publish(newEvent({ tenantId: 'nope' })),
      t.bus.publish(good[2]),
    ]);

    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(EventConflictError);
    expect((results[3] as PromiseRejectedResult).reason).toBeInstanceOf(EventValidationError);
    const ids = good.map((event) => event.id!);
    await waitFor(() => allProcessed(db, ids), { message: 'the valid events processed' });
  });

  it('checks its own maxPayloadBytes when it is stricter than the store’s', async () => {
    const strict = await createTestBus({
      db,
      backend,
      suite: 'bus-publish-strict',
      maxPayloadBytes: 64,
      worker: false,
    });
    try {
      const before = await countEvents(db);
      const error = await strict.bus
        .publish(newEvent({ payload: { text: 'x'.repeat(100) } }))
        .catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(EventValidationError);
      expect((error as EventValidationError).field).toBe('payload');
      expect(await countEvents(db)).toBe(before);
      await expect(strict.bus.publish(newEvent({ payload: { text: 'short' } }))).resolves.toMatchObject({
        status: 'pending',
      });
    } finally {
      await strict.close();
    }
  });

  it('records the job ids after publish resolves, with no worker or relay to fill them in', async () => {
    // A database of its own: the relay of this file's bus would record the job ids of rows in its database.
    const own = await createTestDatabase(`bus-publish-job-ids-${backend}`);
    const publishOnly = await createTestBus({
      db: own,
      backend,
      suite: 'bus-publish-job-ids',
      worker: false,
      relay: false,
    });
    try {
      const alone = await publishOnly.bus.publish(newEvent());
      const together = await Promise.all(Array.from({ length: 20 }, () => publishOnly.bus.publish(newEvent())));
      expect(alone.metadata?.jobId).toBe(alone.id);
      expect(together.every((event) => typeof event.metadata?.jobId === 'string')).toBe(true);

      await waitFor(() => jobIdsRecorded(own, [alone, ...together]), {
        message: 'every job id recorded by the publisher',
      });
    } finally {
      await publishOnly.close();
      await own.drop();
    }
  });

  it('close() lets the publishes in flight finish, enqueued', async () => {
    const closing = await createTestBus({ db, backend, suite: 'bus-publish-closing', worker: false });
    const events = Array.from({ length: 20 }, () => newEvent());
    const publishing = Promise.all(events.map((event) => closing.bus.publish(event)));
    const closed = closing.bus.close();
    const published = await publishing;
    await closed;
    try {
      expect(published.every((event) => typeof event.metadata?.jobId === 'string')).toBe(true);
      expect(await jobIdsRecorded(db, published)).toBe(true);
    } finally {
      await closing.close();
    }
  });

  it('refuses to publish before initialize() and after close(), and waits for a start in progress', async () => {
    const idle = await createTestBus({ db, backend, suite: 'bus-publish-idle', initialize: false });
    try {
      await expect(idle.bus.publish(newEvent())).rejects.toThrow(EventBusNotReadyError);
      const starting = idle.bus.initialize();
      const duringStart = idle.bus.publish(newEvent()); // waits for the start in progress
      await Promise.all([starting, idle.bus.initialize()]); // concurrent and repeated calls share one start
      await expect(duringStart).resolves.toMatchObject({ status: 'pending' });
      await idle.bus.initialize();
      await idle.bus.close();
      await idle.bus.close();
      await expect(idle.bus.publish(newEvent())).rejects.toThrow(EventBusNotReadyError);
    } finally {
      await idle.close();
    }
  });
});

async function jobTotal(t: TestBus): Promise<number> {
  const counts = await t.inspect().getJobCounts();
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}
