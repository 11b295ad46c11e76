import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventValidationError, type EventContext, type StoredEvent } from '@app/event-bus';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deliveryRecords, newEvent, TENANT_A, TENANT_B, waitForStatus } from './delivery-helpers.js';

describe.each(transportBackends())('failed deliveries and re-driving them (%s backend)', (backend) => {
  let db: TestDatabase;
  let t: TestBus;
  /** Per event id: how many more calls of `fragile` throw (absent: it always throws). */
  const fragileFailuresLeft = new Map<string, number>();
  let pickyBroken = true;
  const calls: Array<{ handler: string; eventId: string; attempt: number }> = [];
  let ids: { a1: string; a2: string; b1: string; special: string };

  const callsOf = (handler: string, eventId: string) =>
    calls.filter((call) => call.handler === handler && call.eventId === eventId).map((call) => call.attempt);

  beforeAll(async () => {
    db = await createTestDatabase(`delivery-failed-${backend}`);
    t = await createTestBus({ db, backend, suite: 'delivery-failed', initialize: false });
    const retry = { maxAttempts: 2, backoff: { type: 'fixed' as const, delay: 10 } };
    await t.bus.subscribe(
      'order.*',
      async (event: StoredEvent, context: EventContext) => {
        calls.push({ handler: 'fragile', eventId: event.id, attempt: context.attempt });
        const left = fragileFailuresLeft.get(event.id);
        if (left === undefined) throw new Error(`fragile cannot handle ${event.id}`);
        if (left > 0) {
          fragileFailuresLeft.set(event.id, left - 1);
          throw new Error('fragile, one more time');
        }
      },
      { name: 'fragile', retry },
    );
    await t.bus.subscribe(
      'order.*',
      async (event: StoredEvent, context: EventContext) => {
        calls.push({ handler: 'steady', eventId: event.id, attempt: context.attempt });
      },
      { name: 'steady' },
    );
    await t.bus.subscribe(
      'order.special',
      async (event: StoredEvent, context: EventContext) => {
        calls.push({ handler: 'picky', eventId: event.id, attempt: context.attempt });
        if (pickyBroken) throw new Error('picky is broken');
      },
      { name: 'picky', retry },
    );

    await t.bus.initialize();
    const [a1, a2, b1, special] = await t.bus.publishAll([
      newEvent('order.placed', { tenantId: TENANT_A }),
      newEvent('order.placed', { tenantId: TENANT_A }),
      newEvent('order.placed', { tenantId: TENANT_B }),
      newEvent('order.special', { tenantId: TENANT_A }),
    ]);
    ids = { a1: a1.id, a2: a2.id, b1: b1.id, special: special.id };
    await waitForStatus(db.dataSource, Object.values(ids), 'failed');
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('lists every failed delivery with its attempts, last error and time of failure', async () => {
    const failed = await t.bus.getFailedDeliveries();
    expect(failed).toHaveLength(5);
    expect(failed).toContainEqual({
      eventId: ids.a1,
      handler: 'fragile',
      attempts: 2,
      lastError: `Error: fragile cannot handle ${ids.a1}`,
      failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(failed.filter((entry) => entry.handler === 'steady')).toEqual([]);
  });

  it('filters by event, by handler and by tenant', async () => {
    expect((await t.bus.getFailedDeliveries({ eventId: ids.special })).map((entry) => entry.handler).sort()).toEqual([
      'fragile',
      'picky',
    ]);
    expect((await t.bus.getFailedDeliveries({ handler: 'picky' })).map((entry) => entry.eventId)).toEqual([
      ids.special,
    ]);
    expect((await t.bus.getFailedDeliveries({ tenantId: TENANT_B })).map((entry) => entry.eventId)).toEqual([ids.b1]);
    expect(await t.bus.getFailedDeliveries({ tenantId: TENANT_B, handler: 'picky' })).toEqual([]);
  });

  it('rejects a filter that is not a UUID instead of reading it as "every row"', async () => {
    await expect(t.bus.getFailedDeliveries({ tenantId: "' OR 1=1 --" })).rejects.toThrow(EventValidationError);
    await expect(t.bus.retryFailed({ eventId: 'not-a-uuid' })).rejects.toThrow(EventValidationError);
    await expect(t.bus.getFailedDeliveries({ tenantId: null as unknown as string })).rejects.toThrow(
      EventValidationError,
    );
  });

  it('re-drives only the failed handler, with a fresh maxAttempts, and the event ends processed', async () => {
    fragileFailuresLeft.set(ids.a1, 1); // the re-drive's first attempt fails, its second succeeds

    expect(await t.bus.retryFailed({ eventId: ids.a1 })).toBe(1);
    await waitForStatus(db.dataSource, [ids.a1], 'processed');

    // Two attempts before, two in the re-drive (counted afresh); the sibling never ran again.
    expect(callsOf('fragile', ids.a1)).toEqual([1, 2, 1, 2]);
    expect(callsOf('steady', ids.a1)).toEqual([1]);
    expect((await deliveryRecords(db.dataSource, ids.a1)).get('fragile')).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      run: 1,
    });
    expect(await t.bus.getFailedDeliveries({ eventId: ids.a1 })).toEqual([]);
  });

  it('records a re-drive that fails again as failed again, re-drivable once more', async () => {
    expect(await t.bus.retryFailed({ tenantId: TENANT_B })).toBe(1);
    await waitForStatus(db.dataSource, [ids.b1], 'failed');
    await expect(t.bus.getFailedDeliveries({ eventId: ids.b1 })).resolves.toEqual([
      expect.objectContaining({ handler: 'fragile', attempts: 2 }),
    ]);
    expect(callsOf('fragile', ids.b1)).toEqual([1, 2, 1, 2]);
    expect((await deliveryRecords(db.dataSource, ids.b1)).get('fragile')?.run).toBe(1);
  });

  it('keeps the event failed while another of its handlers is still failed', async () => {
    pickyBroken = false;
    expect(await t.bus.retryFailed({ handler: 'picky' })).toBe(1);
    // retryFailed left the event `processing`; finishing the re-drive settles it, failed because of `fragile`.
    await waitForStatus(db.dataSource, [ids.special], 'failed');
    expect((await deliveryRecords(db.dataSource, ids.special)).get('picky')?.status).toBe('succeeded');
    expect(callsOf('picky', ids.special)).toEqual([1, 2, 1]);
  });

  it('re-drives everything that failed when given no filter, and resolves to the count', async () => {
    for (const id of [ids.a2, ids.b1, ids.special]) fragileFailuresLeft.set(id, 0);
    expect(await t.bus.retryFailed()).toBe(3);
    await waitForStatus(db.dataSource, Object.values(ids), 'processed');
    expect(await t.bus.getFailedDeliveries()).toEqual([]);
    expect(await t.bus.retryFailed()).toBe(0);
    for (const id of Object.values(ids)) expect(callsOf('steady', id)).toEqual([1]);
  });
});
