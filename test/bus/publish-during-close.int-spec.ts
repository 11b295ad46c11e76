import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { EventBusNotReadyError, type StoredEvent } from '@app/event-bus';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { eventRows, newEvent } from './bus-fixtures.js';

/**
 * The workflow-engine pattern during shutdown: a handler still running when `close()` is called
 * publishes the next event of its workflow. Publishing must work until the running handlers have
 * finished, and only then be refused.
 */
describe.each(transportBackends())('publishing while the bus closes (%s backend)', (backend) => {
  let db: TestDatabase;
  let t: TestBus | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(`bus-publish-during-close-${backend}`);
  });

  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('a handler running when close() is called publishes its follow-up event', async () => {
    t = await createTestBus({ db, backend, suite: 'publish-during-close', initialize: false });
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    let followUp: StoredEvent | undefined;
    let followUpError: unknown;
    const bus = t.bus;
    await bus.subscribe(
      'workflow.node.completed',
      async (event) => {
        started = true;
        await held;
        try {
          followUp = await bus.publish(
            newEvent({ type: 'workflow.node.triggered', metadata: { workflowId: event.metadata?.workflowId } }),
          );
        } catch (error) {
          followUpError = error;
        }
      },
      { name: 'next-node' },
    );
    await bus.initialize();
    const completed = await bus.publish(
      newEvent({ type: 'workflow.node.completed', metadata: { workflowId: 'wf-close' } }),
    );
    await waitFor(() => started, { message: 'the handler started' });

    const closing = bus.close();
    release();
    await closing;

    expect(followUpError).toBeUndefined();
    expect(followUp).toMatchObject({
      type: 'workflow.node.triggered',
      status: 'pending',
      metadata: { workflowId: 'wf-close', jobId: followUp!.id },
    });
    // Stored and enqueued (the worker stopped taking jobs: it waits in the queue for the next one).
    const [original, next] = await eventRows(db, [completed.id, followUp!.id]);
    expect(original).toMatchObject({ id: completed.id, status: 'processed' });
    expect(next).toMatchObject({ id: followUp!.id, status: 'pending', job_id: followUp!.id });
    expect(await t.inspect().getJobState(followUp!.id)).toBe('waiting');
    // The queue answered: nothing was forced.
    expect(t.logger.lines.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('publish() after close() has finished throws EventBusNotReadyError', async () => {
    t = await createTestBus({ db, backend, suite: 'publish-after-close' });
    await t.bus.close();

    const refused = await t.bus.publish(newEvent()).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EventBusNotReadyError);
    expect((refused as Error).message).toBe('publish() was called after close() had finished; create a new event bus.');
    await expect(t.bus.publishAll([newEvent()])).rejects.toThrow(EventBusNotReadyError);
  });
});
