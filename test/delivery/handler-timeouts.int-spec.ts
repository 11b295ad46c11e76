import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { HandlerTimeoutError, type EventContext, type StoredEvent } from '@app/event-bus';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { deliveryRecords, newEvent, waitForStatus } from './delivery-helpers.js';

/**
 * DESIGN.md 6.8: a handler attempt that runs past its `timeoutMs` (or the bus's `handlerTimeoutMs`)
 * fails with `HandlerTimeoutError` and is retried under its policy; `context.signal` is aborted at
 * the timeout, and when shutdown stops waiting for a handler.
 */
describe.each(transportBackends())('handler timeouts (%s backend)', (backend) => {
  let db: TestDatabase;
  let t: TestBus | undefined;
  /** Every attempt's signal, in call order. */
  let signals: AbortSignal[];

  beforeAll(async () => {
    db = await createTestDatabase(`delivery-timeouts-${backend}`);
  });

  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** Hangs on its first attempt until its signal is aborted; later attempts succeed at once. */
  const hangsOnce = async (_event: StoredEvent, context: EventContext): Promise<void> => {
    signals.push(context.signal);
    if (context.attempt > 1) return;
    await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
  };

  it('fails an attempt past its timeoutMs, aborts its signal, and retries it', async () => {
    signals = [];
    t = await createTestBus({ db, backend, suite: 'delivery-timeouts', initialize: false });
    await t.bus.subscribe('work.timed', hangsOnce, {
      name: 'hangs-once',
      timeoutMs: 100,
      retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 10 } },
    });
    await t.bus.initialize();

    const event = await t.bus.publish(newEvent('work.timed'));
    await waitForStatus(db.dataSource, [event.id], 'processed');

    expect(signals).toHaveLength(2);
    expect(signals[0].aborted).toBe(true);
    expect(signals[0].reason).toBeInstanceOf(HandlerTimeoutError);
    expect(signals[1].aborted).toBe(false);
    const record = (await deliveryRecords(db.dataSource, event.id)).get('hangs-once');
    expect(record).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(record?.last_error).toBe('HandlerTimeoutError: Handler "hangs-once" did not finish within 100 ms');
  });

  it("applies the bus's handlerTimeoutMs to handlers that declare none, and records the failure", async () => {
    signals = [];
    t = await createTestBus({ db, backend, suite: 'delivery-timeouts', initialize: false, handlerTimeoutMs: 100 });
    await t.bus.subscribe('work.default', hangsOnce, {
      name: 'by-default',
      retry: { maxAttempts: 1, backoff: { type: 'fixed', delay: 10 } },
    });
    await t.bus.initialize();

    const event = await t.bus.publish(newEvent('work.default'));
    await waitForStatus(db.dataSource, [event.id], 'failed');

    expect(signals[0].reason).toBeInstanceOf(HandlerTimeoutError);
    expect(await t.bus.getFailedDeliveries({ eventId: event.id })).toEqual([
      expect.objectContaining({
        handler: 'by-default',
        attempts: 1,
        lastError: 'HandlerTimeoutError: Handler "by-default" did not finish within 100 ms',
      }),
    ]);
  });

  it('aborts the signal of a handler still running when close() stops waiting for it', async () => {
    signals = [];
    t = await createTestBus({ db, backend, suite: 'delivery-timeouts', initialize: false, shutdownTimeoutMs: 200 });
    let started = false;
    await t.bus.subscribe(
      'work.slow',
      async (_event: StoredEvent, context: EventContext) => {
        signals.push(context.signal);
        started = true;
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
      },
      { name: 'slow' },
    );
    await t.bus.initialize();
    await t.bus.publish(newEvent('work.slow'));
    await waitFor(() => started, { message: 'the handler to start' });

    await t.bus.close();

    expect(signals).toHaveLength(1);
    expect(signals[0].aborted).toBe(true);
    expect(String(signals[0].reason)).toContain('shutdown stopped waiting');
  });
});
