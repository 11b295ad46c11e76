import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EventContext, StoredEvent } from '@app/event-bus';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { newEvent, waitForStatus } from './delivery-helpers.js';

describe.each(transportBackends())('routing to handlers (%s backend)', (backend) => {
  let db: TestDatabase;
  let t: TestBus;
  const calls: Array<{ handler: string; type: string; context: EventContext; event: StoredEvent }> = [];

  beforeAll(async () => {
    db = await createTestDatabase(`delivery-routing-${backend}`);
    t = await createTestBus({ db, backend, suite: 'delivery-routing', initialize: false });
    const record = (handler: string) => async (event: StoredEvent, context: EventContext) => {
      calls.push({ handler, type: event.type, context, event });
    };
    await t.bus.subscribe('workflow.*', record('one-segment'), { name: 'one-segment' });
    await t.bus.subscribe('workflow.**', record('any-depth'), { name: 'any-depth' });
    await t.bus.subscribe('workflow.node.triggered', record('exact'), { name: 'exact' });
    await t.bus.initialize();
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('delivers each event to exactly the handlers whose pattern matches, once each', async () => {
    const events = await t.bus.publishAll([
      newEvent('workflow.started'),
      newEvent('workflow.node.triggered'),
      newEvent('workflow'),
      newEvent('billing.invoice.paid'),
    ]);
    await waitForStatus(
      db.dataSource,
      events.map((event) => event.id),
      'processed',
    );

    const handlersOf = (type: string) =>
      calls
        .filter((call) => call.type === type)
        .map((call) => call.handler)
        .sort();
    expect(handlersOf('workflow.started')).toEqual(['any-depth', 'one-segment']);
    expect(handlersOf('workflow.node.triggered')).toEqual(['any-depth', 'exact']);
    expect(handlersOf('workflow')).toEqual(['any-depth']);
    // Unmatched: nothing called, and still `processed` rather than left pending.
    expect(handlersOf('billing.invoice.paid')).toEqual([]);
    expect(calls).toHaveLength(5);
  });

  it('gives handlers the stored event and a first-attempt context naming the handler and the job', async () => {
    const event = await t.bus.publish(newEvent('workflow.node.triggered', { payload: { nodeId: 'n-7' } }));
    await waitForStatus(db.dataSource, [event.id], 'processed');

    const call = calls.find((entry) => entry.event.id === event.id && entry.handler === 'exact')!;
    expect(call.context).toEqual({
      attempt: 1,
      replay: false,
      handler: 'exact',
      jobId: event.id,
      signal: expect.any(AbortSignal),
    });
    expect(call.event).toMatchObject({
      id: event.id,
      type: 'workflow.node.triggered',
      payload: { nodeId: 'n-7' },
      sequenceNumber: event.sequenceNumber,
      status: 'processing',
      metadata: { jobId: event.id },
    });
  });
});
