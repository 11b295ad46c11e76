import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { CallLog, allProcessed, removeFinishedJob, eventRows, newEvent } from './bus-fixtures.js';

/**
 * `publish(event, { manager })` joins the caller's transaction: the event is stored with the caller's
 * own writes and enqueued once they commit — by the relay, woken by a NOTIFY that PostgreSQL delivers
 * only on commit. The sweep is slowed to a minute here, so only that notification can deliver in time.
 */
describe.each(transportBackends())('transactional publish (%s backend)', (backend) => {
  let db: TestDatabase;
  let t: TestBus;
  const log = new CallLog();

  beforeAll(async () => {
    db = await createTestDatabase(`bus-tx-${backend}`);
    await db.dataSource.query('CREATE TABLE orders (id uuid PRIMARY KEY, total int NOT NULL)');
    t = await createTestBus({
      db,
      backend,
      suite: 'bus-tx',
      relay: { intervalMs: 60_000, graceMs: 60_000, lostJobCheckIntervalMs: 60_000 },
    });
    await t.bus.subscribe('**', log.handler, { name: 'recorder' });
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('stores the event with the caller’s writes and delivers it after commit', async () => {
    const event = newEvent({ type: 'order.placed' });
    const orderId = event.id!;
    let insideTransaction: { visibleOutside: number; status: string; jobId: string | undefined } | undefined;

    await db.dataSource.transaction(async (manager) => {
      await manager.query('INSERT INTO orders (id, total) VALUES ($1, 42)', [orderId]);
      const stored = await t.bus.publish(event, { manager });
      insideTransaction = {
        visibleOutside: (await eventRows(db, [event.id!])).length,
        status: stored.status,
        jobId: stored.metadata?.jobId,
      };
    });

    // Not enqueued by publish (the transaction was still open), not visible before the commit.
    expect(insideTransaction).toEqual({ visibleOutside: 0, status: 'pending', jobId: undefined });
    await waitFor(() => allProcessed(db, [event.id!]), { message: 'the committed event processed' });
    expect(log.count(event.id!)).toBe(1);
    const [row] = await eventRows(db, [event.id!]);
    expect(row?.job_id).toBe(event.id);
  });

  it('stores and delivers nothing when the caller’s transaction rolls back', async () => {
    const event = newEvent({ type: 'order.placed' });
    await expect(
      db.dataSource.transaction(async (manager) => {
        await manager.query('INSERT INTO orders (id, total) VALUES ($1, 7)', [event.id]);
        await t.bus.publish(event, { manager });
        throw new Error('the caller changed its mind');
      }),
    ).rejects.toThrow('the caller changed its mind');

    // A later committed event is delivered through the same path; the rolled-back one never is.
    const later = newEvent({ type: 'order.placed' });
    await db.dataSource.transaction((manager) => t.bus.publish(later, { manager }));
    await waitFor(() => allProcessed(db, [later.id!]), { message: 'the later event processed' });

    expect(await eventRows(db, [event.id!])).toEqual([]);
    expect(await db.dataSource.query('SELECT id FROM orders WHERE id = $1', [event.id])).toEqual([]);
    expect(log.count(event.id!)).toBe(0);
    expect(await t.inspect().getJob(event.id!)).toBeUndefined();
  });

  it('delivers a transactional publishAll too large to name in one notification', async () => {
    const events = Array.from({ length: 250 }, (_, index) =>
      newEvent({ type: 'order.line.added', payload: { index } }),
    );
    await db.dataSource.transaction((manager) => t.bus.publishAll(events, { manager }));

    const ids = events.map((event) => event.id!);
    await waitFor(() => allProcessed(db, ids), { message: '250 events processed', timeoutMs: 20_000 });
    expect(ids.every((id) => log.count(id) === 1)).toBe(true);
  });

  it('a duplicate inside a transaction resolves to the stored original and delivers nothing again', async () => {
    const event = newEvent({ type: 'order.placed' });
    const first = await t.bus.publish(event);
    await waitFor(() => allProcessed(db, [first.id]), { message: 'the first delivery' });
    await removeFinishedJob(t, first.id);

    const again = await db.dataSource.transaction((manager) => t.bus.publish(event, { manager }));
    expect(again.sequenceNumber).toBe(first.sequenceNumber);

    const later = newEvent({ type: 'order.placed' });
    await db.dataSource.transaction((manager) => t.bus.publish(later, { manager }));
    await waitFor(() => allProcessed(db, [later.id!]), { message: 'a later event processed' });
    expect(log.count(first.id)).toBe(1);
  });
});
