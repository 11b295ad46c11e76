/**
 * Transactional handlers (DESIGN.md 6.7) on the BullMQ bus: what a handler writes through
 * `context.manager` commits with its inbox row, so a delivery repeated after the handler committed
 * (the same event job again, a batch job again, a re-drive) does not call it again, and a failed or
 * timed-out attempt leaves nothing behind. The projection table has no unique constraint on
 * purpose: only the inbox keeps it at one row per event.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import type { EventContext, StoredEvent } from '@app/event-bus';
import { EVENT_BATCH_JOB, EVENT_JOB } from '../../libs/event-bus/src/transport/bullmq/jobs/event-jobs.js';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { deliveryRecords, newEvent, statusOf, waitForStatus } from './delivery-helpers.js';

describe.each(transportBackends())('transactional handlers (%s backend)', (backend) => {
  let db: TestDatabase;
  let t: TestBus;
  /** Every call of the handlers, as they saw it. */
  const calls: Array<{ handler: string; eventId: string; context: EventContext }> = [];
  /** Failing attempts, per event: the handler throws while its attempt is below this. */
  const failUntilAttempt = new Map<string, number>();
  /** The outcome of the statement a timed-out attempt tries after its signal was aborted. */
  const lateWrites = new Map<string, 'written' | 'refused'>();

  const project = (manager: EntityManager | undefined, handler: string, eventId: string, note: string) => {
    if (!manager) throw new Error('a transactional handler got no manager');
    return manager.query('INSERT INTO tx_projection (event_id, handler, note) VALUES ($1, $2, $3)', [
      eventId,
      handler,
      note,
    ]);
  };
  const rowsOf = async (eventId: string, handler: string): Promise<string[]> => {
    const rows: Array<{ note: string }> = await db.dataSource.query(
      'SELECT note FROM tx_projection WHERE event_id = $1 AND handler = $2 ORDER BY note',
      [eventId, handler],
    );
    return rows.map((row) => row.note);
  };
  const callsOf = (handler: string, eventId: string) =>
    calls.filter((call) => call.handler === handler && call.eventId === eventId);

  beforeAll(async () => {
    db = await createTestDatabase(`delivery-tx-${backend}`);
    await db.dataSource.query('CREATE TABLE tx_projection (event_id uuid NOT NULL, handler text NOT NULL, note text)');
    t = await createTestBus({
      db,
      backend,
      suite: 'delivery-tx',
      initialize: false,
      defaultRetry: { maxAttempts: 3, backoff: { type: 'fixed', delay: 20 } },
    });
    await t.bus.subscribe(
      'tx.projected',
      async (event: StoredEvent, context: EventContext) => {
        calls.push({ handler: 'projector', eventId: event.id, context });
        await project(context.manager, 'projector', event.id, `attempt ${context.attempt}`);
        // The manager is the inbox's transaction: it sees its own, uncommitted, claim.
        const [claim] = await context.manager!.query<[{ n: number }]>(
          'SELECT count(*)::int AS n FROM event_bus_inbox WHERE event_id = $1 AND handler = $2',
          [event.id, 'projector'],
        );
        if (claim.n !== 1) throw new Error(`the inbox row is not in this transaction (${claim.n})`);
        if (context.attempt < (failUntilAttempt.get(event.id) ?? 0))
          throw new Error(`fails attempt ${context.attempt}`);
      },
      { name: 'projector', transactional: true },
    );
    await t.bus.subscribe(
      'tx.slow',
      async (event: StoredEvent, context: EventContext) => {
        calls.push({ handler: 'slow', eventId: event.id, context });
        await project(context.manager, 'slow', event.id, `attempt ${context.attempt}`);
        if (context.attempt > 1) return;
        // The first attempt outlives its timeout and, ignoring what that means, writes once more.
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
        try {
          await project(context.manager, 'slow', event.id, 'late');
          lateWrites.set(event.id, 'written');
        } catch {
          lateWrites.set(event.id, 'refused');
        }
      },
      {
        name: 'slow',
        transactional: true,
        timeoutMs: 500,
        retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 20 } },
      },
    );
    await t.bus.initialize();
  });

  beforeEach(() => {
    calls.length = 0;
    failUntilAttempt.clear();
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('commits what the handler writes through context.manager with its inbox row: one row per event', async () => {
    const events = await t.bus.publishAll(Array.from({ length: 8 }, () => newEvent('tx.projected')));
    await waitForStatus(
      db.dataSource,
      events.map((event) => event.id),
      'processed',
    );
    for (const event of events) {
      expect(await rowsOf(event.id, 'projector')).toEqual(['attempt 1']);
      expect(callsOf('projector', event.id)).toHaveLength(1);
    }
    const [inbox] = await db.dataSource.query<[{ n: number }]>(
      'SELECT count(*)::int AS n FROM event_bus_inbox WHERE event_id = ANY($1::uuid[])',
      [events.map((event) => event.id)],
    );
    expect(inbox.n).toBe(events.length);
  });

  it('does not call it again when the event job is delivered again after it committed', async () => {
    const event = await t.bus.publish(newEvent('tx.projected'));
    await waitForStatus(db.dataSource, [event.id], 'processed');
    // A worker that committed the handler's transaction and died before writing the status: the event
    // is still `processing`, and its job comes back (a stalled job, or the lost-job recovery).
    await db.dataSource.query(`UPDATE event_store SET status = 'processing' WHERE id = $1`, [event.id]);
    await t.inspect().add(EVENT_JOB, { event, fresh: false }, { jobId: `${event.id}-again` });
    await waitForStatus(db.dataSource, [event.id], 'processed');
    expect(callsOf('projector', event.id)).toHaveLength(1);
    expect(await rowsOf(event.id, 'projector')).toEqual(['attempt 1']);
  });

  it('does not call it again for the events of a batch job delivered again', async () => {
    const events = await t.bus.publishAll([
      newEvent('tx.projected'),
      newEvent('tx.projected'),
      newEvent('tx.projected'),
    ]);
    const ids = events.map((event) => event.id);
    await waitForStatus(db.dataSource, ids, 'processed');
    await db.dataSource.query(`UPDATE event_store SET status = 'processing' WHERE id = ANY($1::uuid[])`, [ids]);
    await t.inspect().add(EVENT_BATCH_JOB, { events, fresh: false }, { jobId: `${ids[0]}-batch-again` });
    await waitForStatus(db.dataSource, ids, 'processed');
    for (const id of ids) {
      expect(callsOf('projector', id)).toHaveLength(1);
      expect(await rowsOf(id, 'projector')).toEqual(['attempt 1']);
    }
  });

  it('does not call it again when a re-drive delivers an event it had handled', async () => {
    const event = await t.bus.publish(newEvent('tx.projected'));
    await waitForStatus(db.dataSource, [event.id], 'processed');
    // The handler committed, but its success never reached the delivery record, which ended failed.
    await db.dataSource.query(
      `INSERT INTO event_handler_deliveries (event_id, handler, status, attempts, last_error, failed_at)
       VALUES ($1, 'projector', 'failed', 3, 'Error: lost', NOW())`,
      [event.id],
    );
    await db.dataSource.query(`UPDATE event_store SET status = 'failed' WHERE id = $1`, [event.id]);
    expect(await t.bus.retryFailed({ handler: 'projector', eventId: event.id })).toBe(1);
    await waitForStatus(db.dataSource, [event.id], 'processed');
    expect((await deliveryRecords(db.dataSource, event.id)).get('projector')?.status).toBe('succeeded');
    expect(callsOf('projector', event.id)).toHaveLength(1);
    expect(await rowsOf(event.id, 'projector')).toEqual(['attempt 1']);
  });

  it('rolls back a failing attempt and retries it: exactly one row after two failures', async () => {
    const stored = newEvent('tx.projected', { id: randomUUID() });
    failUntilAttempt.set(stored.id!, 3);
    const event = await t.bus.publish(stored);
    await waitForStatus(db.dataSource, [event.id], 'processed');
    expect(callsOf('projector', event.id).map((call) => call.context.attempt)).toEqual([1, 2, 3]);
    expect(await rowsOf(event.id, 'projector')).toEqual(['attempt 3']);
    expect((await deliveryRecords(db.dataSource, event.id)).get('projector')).toMatchObject({
      status: 'succeeded',
      attempts: 3,
    });
  });

  it('rolls back an attempt that timed out, also what it writes after its timeout', async () => {
    const event = await t.bus.publish(newEvent('tx.slow'));
    await waitForStatus(db.dataSource, [event.id], 'processed');
    await waitFor(() => lateWrites.has(event.id), { message: 'the timed-out attempt tried its late write' });
    expect(lateWrites.get(event.id)).toBe('refused');
    expect(callsOf('slow', event.id).map((call) => call.context.attempt)).toEqual([1, 2]);
    expect(await rowsOf(event.id, 'slow')).toEqual(['attempt 2']);
    expect((await deliveryRecords(db.dataSource, event.id)).get('slow')?.last_error).toMatch(/HandlerTimeoutError/);
  });

  it('runs it again in a replay, in a transaction with context.manager, leaving the inbox as it was', async () => {
    const from = new Date();
    const events = await t.bus.publishAll([newEvent('tx.projected'), newEvent('tx.projected')]);
    const ids = events.map((event) => event.id);
    await waitForStatus(db.dataSource, ids, 'processed');
    const result = await t.bus.replayEvents(from, { types: ['tx.projected'], handlers: ['projector'] });
    expect(result.failed).toBe(0);
    for (const id of ids) {
      const replayed = callsOf('projector', id).filter((call) => call.context.replay);
      expect(replayed).toHaveLength(1);
      expect(replayed[0].context.manager).toBeDefined();
      expect(await rowsOf(id, 'projector')).toEqual(['attempt 1', 'attempt 1']);
    }
    expect(await statusOf(db.dataSource, ids[0])).toBe('processed');
  });
});
