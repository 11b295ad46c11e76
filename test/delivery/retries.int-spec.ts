import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NonRetryableEventError, type EventContext, type RetryPolicy, type StoredEvent } from '@app/event-bus';
import { handlerJobId } from '../../libs/event-bus/src/transport/bullmq/jobs/event-jobs.js';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deliveryRecords, newEvent, waitForJobState, waitForStatus } from './delivery-helpers.js';

/** Every call a handler received: the attempt it was told, and when (for the order of the gaps). */
type Calls = Array<{ attempt: number; at: number }>;

describe.each(transportBackends())('per-handler retries (%s backend)', (backend) => {
  let db: TestDatabase;
  let t: TestBus;

  /** Subscribes a handler that records its calls and throws while `fail(attempt)` says so. */
  function handler(
    type: string,
    name: string,
    fail: (attempt: number) => Error | undefined,
    retry?: RetryPolicy,
  ): Calls {
    const calls: Calls = [];
    // Each test adds its handlers to the running bus's registry (one process, so every worker knows them).
    t.subscriptions.add(
      type,
      async (_event: StoredEvent, context: EventContext) => {
        calls.push({ attempt: context.attempt, at: Date.now() });
        const error = fail(context.attempt);
        if (error) throw error;
      },
      { name, retry },
    );
    return calls;
  }

  const gaps = (calls: Calls) => calls.slice(1).map((call, index) => call.at - calls[index].at);

  async function publishOne(type: string): Promise<string> {
    return (await t.bus.publish(newEvent(type))).id;
  }

  beforeAll(async () => {
    db = await createTestDatabase(`delivery-retries-${backend}`);
    t = await createTestBus({
      db,
      backend,
      suite: 'delivery-retries',
      defaultRetry: { maxAttempts: 3, backoff: { type: 'fixed', delay: 10 } },
    });
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('retries only the failing handler: fails twice, succeeds on attempt 3; the sibling runs once', async () => {
    const flaky = handler(
      'retry.flaky',
      'flaky',
      (attempt) => (attempt < 3 ? new Error(`flaky ${attempt}`) : undefined),
      {
        maxAttempts: 3,
        backoff: { type: 'fixed', delay: 20 },
      },
    );
    const sibling = handler('retry.flaky', 'flaky-sibling', () => undefined);
    const id = await publishOne('retry.flaky');

    await waitForStatus(db.dataSource, [id], 'processed');
    expect(flaky.map((call) => call.attempt)).toEqual([1, 2, 3]);
    expect(sibling.map((call) => call.attempt)).toEqual([1]);
    const records = await deliveryRecords(db.dataSource, id);
    expect(records.get('flaky')).toMatchObject({ status: 'succeeded', attempts: 3, last_error: 'Error: flaky 2' });
    expect(records.get('flaky-sibling')).toMatchObject({ status: 'succeeded', attempts: 1 });
    // The handler job is finished: no further call can come.
    await waitForJobState(t.inspect(), handlerJobId(id, 'flaky'), 'completed');
  });

  it('gives up after maxAttempts: 4 calls, a failed record with attempts and last error, the event failed', async () => {
    const doomed = handler('retry.doomed', 'doomed', (attempt) => new Error(`doomed ${attempt}`), {
      maxAttempts: 4,
      backoff: { type: 'fixed', delay: 10 },
    });
    const sibling = handler('retry.doomed', 'doomed-sibling', () => undefined);
    const id = await publishOne('retry.doomed');

    await waitForStatus(db.dataSource, [id], 'failed');
    await waitForJobState(t.inspect(), handlerJobId(id, 'doomed'), 'failed');
    expect(doomed.map((call) => call.attempt)).toEqual([1, 2, 3, 4]);
    expect(sibling).toHaveLength(1);
    expect((await deliveryRecords(db.dataSource, id)).get('doomed')).toMatchObject({
      status: 'failed',
      attempts: 4,
      last_error: 'Error: doomed 4',
    });
    expect(await t.bus.getFailedDeliveries({ eventId: id })).toEqual([
      { eventId: id, handler: 'doomed', attempts: 4, lastError: 'Error: doomed 4', failedAt: expect.any(String) },
    ]);
  });

  it('waits longer before each retry under exponential backoff', async () => {
    const calls = handler('retry.exponential', 'exponential', () => new Error('always'), {
      maxAttempts: 4,
      backoff: { type: 'exponential', delay: 100 },
    });
    const id = await publishOne('retry.exponential');

    await waitForStatus(db.dataSource, [id], 'failed');
    const [first, second, third] = gaps(calls);
    expect(calls).toHaveLength(4);
    // A delayed job never runs before its delay is over: 100, 200, 400 ms at least, and growing.
    expect(first).toBeGreaterThanOrEqual(95);
    expect(second).toBeGreaterThanOrEqual(195);
    expect(third).toBeGreaterThanOrEqual(395);
    expect(second).toBeGreaterThan(first);
    expect(third).toBeGreaterThan(second);
  });

  it('waits at least the fixed delay before every retry', async () => {
    const calls = handler('retry.fixed', 'fixed', () => new Error('always'), {
      maxAttempts: 3,
      backoff: { type: 'fixed', delay: 150 },
    });
    const id = await publishOne('retry.fixed');

    await waitForStatus(db.dataSource, [id], 'failed');
    expect(calls).toHaveLength(3);
    for (const gap of gaps(calls)) expect(gap).toBeGreaterThanOrEqual(145);
  });

  it('calls a backoff function with the attempt that just failed and its error', async () => {
    const seen: Array<[number, string]> = [];
    handler('retry.function', 'function-backoff', (attempt) => new Error(`failure ${attempt}`), {
      maxAttempts: 4,
      backoff: (attempt, error) => {
        seen.push([attempt, error.message]);
        return 5;
      },
    });
    const id = await publishOne('retry.function');

    await waitForStatus(db.dataSource, [id], 'failed');
    // No backoff after the last attempt: there is no next one.
    expect(seen).toEqual([
      [1, 'failure 1'],
      [2, 'failure 2'],
      [3, 'failure 3'],
    ]);
  });

  it('fails a NonRetryableEventError at once, without retries; its handler job is the dead letter', async () => {
    const calls = handler('retry.fatal', 'fatal', () => new NonRetryableEventError('cannot ever work'), {
      maxAttempts: 5,
      backoff: { type: 'fixed', delay: 10 },
    });
    const id = await publishOne('retry.fatal');

    await waitForStatus(db.dataSource, [id], 'failed');
    expect(calls).toHaveLength(1);
    expect((await deliveryRecords(db.dataSource, id)).get('fatal')).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error: 'NonRetryableEventError: cannot ever work',
    });
    await waitForJobState(t.inspect(), handlerJobId(id, 'fatal'), 'failed');
    expect(calls).toHaveLength(1);
  });

  it('stops retrying when a retry throws NonRetryableEventError', async () => {
    const calls = handler(
      'retry.fatal-later',
      'fatal-later',
      (attempt) => (attempt === 1 ? new Error('transient') : new NonRetryableEventError('now it is hopeless')),
      { maxAttempts: 5, backoff: { type: 'fixed', delay: 10 } },
    );
    const id = await publishOne('retry.fatal-later');

    await waitForStatus(db.dataSource, [id], 'failed');
    await waitForJobState(t.inspect(), handlerJobId(id, 'fatal-later'), 'failed');
    expect(calls.map((call) => call.attempt)).toEqual([1, 2]);
    expect((await deliveryRecords(db.dataSource, id)).get('fatal-later')).toMatchObject({
      status: 'failed',
      attempts: 2,
    });
  });

  it('does not retry a handler whose policy allows one attempt', async () => {
    const calls = handler('retry.once', 'once', () => new Error('once'), {
      maxAttempts: 1,
      backoff: { type: 'fixed', delay: 10 },
    });
    const id = await publishOne('retry.once');

    await waitForStatus(db.dataSource, [id], 'failed');
    expect(calls).toHaveLength(1);
    expect((await deliveryRecords(db.dataSource, id)).get('once')).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it("uses the bus's default policy for a handler that declares none, and keeps what a non-Error throw said", async () => {
    const calls: number[] = [];
    t.subscriptions.add(
      'retry.default',
      async (_event: StoredEvent, context: EventContext) => {
        calls.push(context.attempt);
        throw 'plain string'; // eslint-disable-line @typescript-eslint/only-throw-error -- handlers may throw anything
      },
      { name: 'default-policy' },
    );
    const id = await publishOne('retry.default');

    await waitForStatus(db.dataSource, [id], 'failed');
    await waitForJobState(t.inspect(), handlerJobId(id, 'default-policy'), 'failed');
    expect(calls).toEqual([1, 2, 3]);
    expect((await deliveryRecords(db.dataSource, id)).get('default-policy')?.last_error).toContain('plain string');
  });
});
