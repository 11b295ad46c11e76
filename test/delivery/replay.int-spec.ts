import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { EventValidationError, type EventContext, type ReplayProgress, type StoredEvent } from '@app/event-bus';
import { EventStoreRepository } from '../../libs/event-bus/src/store/typeorm/event-store.repository.js';
import { PersistentEventStore } from '../../libs/event-bus/src/store/typeorm/persistent-event-store.js';
import { SubscriptionManager } from '../../libs/event-bus/src/subscriptions/subscription-manager.js';
import { EventReplayer } from '../../libs/event-bus/src/core/event-replayer.js';
import { CapturingLogger, createTestBus } from '../support/bus.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { newEvent, TENANT_A, TENANT_B } from './delivery-helpers.js';

describe('replayEvents', () => {
  let db: TestDatabase;
  let store: PersistentEventStore;
  let subscriptions: SubscriptionManager;
  let replayer: EventReplayer;
  let stored: StoredEvent[];
  const calls: Array<{ handler: string; sequence: number; context: EventContext }> = [];
  const log: string[] = [];
  let failOn: string | undefined;

  const from = new Date('2026-01-01T00:00:00.000Z');
  const seqOf = (index: number) => stored[index].sequenceNumber;
  const callsOf = (handler: string) => calls.filter((call) => call.handler === handler).map((call) => call.sequence);

  beforeAll(async () => {
    db = await createTestDatabase('delivery-replay');
    store = new PersistentEventStore(new EventStoreRepository(db.dataSource));
    const logger = new CapturingLogger('replay');
    subscriptions = new SubscriptionManager({ logger });
    replayer = new EventReplayer({
      eventStore: store,
      subscriptions,
      logger,
      progressEvery: 2,
      transactions: store.deliveryLedger({ storeTimeoutMs: 5000 }).transactions,
    });

    const record = (handler: string) => async (event: StoredEvent, context: EventContext) => {
      log.push(`start ${event.sequenceNumber}`);
      // Yield, so a replay that did not await each event's handlers would interleave the next event.
      await new Promise((resolve) => setImmediate(resolve));
      calls.push({ handler, sequence: event.sequenceNumber, context });
      log.push(`end ${event.sequenceNumber}`);
      if (event.id === failOn && handler === 'projector') throw new Error('projection broke');
    };
    subscriptions.add('workflow.*', record('projector'), { name: 'projector' });
    subscriptions.add('workflow.*', record('mailer'), { name: 'mailer', replay: false });
    subscriptions.add('workflow.node.**', record('auditor'), { name: 'auditor' });

    // Sequence order differs from timestamp order on purpose: replay follows the sequence.
    stored = await store.saveAll([
      newEvent('workflow.started', {
        tenantId: TENANT_A,
        timestamp: '2026-01-03T00:00:00.000Z',
        metadata: { workflowId: 'w1' },
      }),
      newEvent('workflow.started', {
        tenantId: TENANT_B,
        timestamp: '2026-01-01T00:00:00.000Z',
        metadata: { workflowId: 'w2' },
      }),
      newEvent('workflow.completed', {
        tenantId: TENANT_A,
        timestamp: '2026-01-02T00:00:00.000Z',
        metadata: { workflowId: 'w1' },
      }),
      newEvent('workflow.node.failed', { tenantId: TENANT_A, timestamp: '2026-01-04T00:00:00.000Z' }),
      newEvent('billing.charged', { tenantId: TENANT_A, timestamp: '2026-01-05T00:00:00.000Z' }),
      newEvent('workflow.started', { tenantId: TENANT_A, timestamp: '2025-12-31T23:59:59.999Z' }),
    ]);
  });

  beforeEach(() => {
    calls.length = 0;
    log.length = 0;
    failOn = undefined;
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('delivers the events from `from` on in sequence order, each event finished before the next', async () => {
    const result = await replayer.replay(from);

    expect(callsOf('projector')).toEqual([seqOf(0), seqOf(1), seqOf(2)]);
    expect(callsOf('auditor')).toEqual([seqOf(3)]);
    expect(log).toEqual([0, 1, 2, 3].flatMap((index) => [`start ${seqOf(index)}`, `end ${seqOf(index)}`]));
    // Events reaching a handler, handler calls, failures; `billing.charged` reached none.
    expect(result).toEqual({ events: 4, handlerCalls: 4, failed: 0 });
  });

  it('leaves out handlers declared with replay: false, and tells the others it is a replay', async () => {
    await replayer.replay(from);
    expect(callsOf('mailer')).toEqual([]);
    expect(calls[0].context).toEqual({
      attempt: 1,
      replay: true,
      handler: 'projector',
      signal: expect.any(AbortSignal),
    });
  });

  it('filters by to, types, tenant, workflow and handlers', async () => {
    expect((await replayer.replay(from, { to: new Date('2026-01-03T00:00:00.000Z') })).events).toBe(2);
    expect(callsOf('projector')).toEqual([seqOf(1), seqOf(2)]);

    calls.length = 0;
    await replayer.replay(from, { types: ['workflow.completed', 'workflow.node.failed'] });
    expect(calls.map((call) => call.sequence)).toEqual([seqOf(2), seqOf(3)]);

    calls.length = 0;
    await replayer.replay(from, { tenantId: TENANT_B });
    expect(calls.map((call) => call.sequence)).toEqual([seqOf(1)]);

    calls.length = 0;
    await replayer.replay(from, { workflowId: 'w1' });
    expect(calls.map((call) => call.sequence)).toEqual([seqOf(0), seqOf(2)]);

    calls.length = 0;
    expect(await replayer.replay(from, { handlers: ['auditor', 'mailer'] })).toEqual({
      events: 1,
      handlerCalls: 1,
      failed: 0,
    });
    expect(calls.map((call) => call.handler)).toEqual(['auditor']);
  });

  it('counts a handler that throws as failed and goes on with the next events', async () => {
    failOn = stored[1].id;
    expect(await replayer.replay(from)).toEqual({ events: 4, handlerCalls: 4, failed: 1 });
    expect(callsOf('projector')).toEqual([seqOf(0), seqOf(1), seqOf(2)]);
  });

  it('changes no status', async () => {
    await store.updateStatus(stored[0].id, 'failed');
    const before = await store.query();
    await replayer.replay(from);
    expect(await store.query()).toEqual(before);
  });

  it('reports progress every N events read and once at the end', async () => {
    const reports: ReplayProgress[] = [];
    await replayer.replay(from, { onProgress: (progress) => reports.push(progress) });
    // 5 events read: reports after the 2nd, the 4th and at the end (the 5th reached no handler).
    expect(reports).toEqual([
      { read: 2, events: 2, handlerCalls: 2, failed: 0, lastSequence: seqOf(1) },
      { read: 4, events: 4, handlerCalls: 4, failed: 0, lastSequence: seqOf(3) },
      { read: 5, events: 4, handlerCalls: 4, failed: 0, lastSequence: seqOf(4) },
    ]);
  });

  it('stops between events once its signal is aborted, and resumes after the last sequence it read', async () => {
    const controller = new AbortController();
    const reports: ReplayProgress[] = [];
    const stoppedAt = await replayer.replay(from, {
      signal: controller.signal,
      progressEvery: 1,
      onProgress: (progress) => {
        reports.push(progress);
        // Aborted while the 2nd event is the last one read: the replay reads no further.
        if (progress.read === 2) controller.abort();
      },
    });
    expect(stoppedAt).toEqual({ events: 2, handlerCalls: 2, failed: 0, stopped: true });
    expect(reports.at(-1)).toMatchObject({ read: 2, lastSequence: seqOf(1) });
    expect(callsOf('projector')).toEqual([seqOf(0), seqOf(1)]);

    const rest = await replayer.replay(from, { afterSequence: reports.at(-1)!.lastSequence });
    expect(rest).toEqual({ events: 2, handlerCalls: 2, failed: 0 });
    expect(callsOf('projector')).toEqual([seqOf(0), seqOf(1), seqOf(2)]);
    expect(await replayer.replay(from, { signal: AbortSignal.abort() })).toEqual({
      events: 0,
      handlerCalls: 0,
      failed: 0,
      stopped: true,
    });
    await expect(replayer.replay(from, { progressEvery: 0 })).rejects.toThrow(EventValidationError);
  });

  it('is what the bus runs for replayEvents (before initialize() too)', async () => {
    const t = await createTestBus({
      db,
      backend: 'postgres',
      suite: 'delivery-replay',
      subscriptions,
      initialize: false,
    });
    try {
      const reports: ReplayProgress[] = [];
      const result = await t.bus.replayEvents(from, { onProgress: (progress) => reports.push(progress) });
      expect(result).toEqual({ events: 4, handlerCalls: 4, failed: 0 });
      expect(callsOf('projector')).toEqual([seqOf(0), seqOf(1), seqOf(2)]);
      expect(reports.at(-1)).toEqual({ ...result, read: 5, lastSequence: seqOf(4) });
    } finally {
      await t.close();
    }
  });

  it('does not end before events committed before it started are visible to gap-safe reads', async () => {
    // A transaction that began earlier (any database of the server) holds the gap-safe horizon back.
    const older = new pg.Client({ connectionString: db.url });
    await older.connect();
    try {
      await older.query('BEGIN');
      await older.query('SELECT pg_current_xact_id()');
      const [late] = await store.saveAll([newEvent('workflow.late', { timestamp: '2026-01-06T00:00:00.000Z' })]);
      // Ends the older transaction a moment later, while the replay is running.
      setTimeout(() => void older.query('ROLLBACK'), 300);

      const result = await replayer.replay(from, { types: ['workflow.late'] });
      expect(result.events).toBe(1);
      expect(callsOf('projector')).toEqual([late.sequenceNumber]);
    } finally {
      await older.end();
    }
  });

  it('rejects a `from` that is not a valid Date', async () => {
    await expect(replayer.replay(new Date('nonsense'))).rejects.toThrow(EventValidationError);
  });
});
