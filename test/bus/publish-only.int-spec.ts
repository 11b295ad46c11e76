import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { CallLog, allProcessed, jobIdsRecorded, newEvent } from './bus-fixtures.js';

/**
 * A publish-only process (`worker: false`) knows no handlers; another process on the same queue that
 * has them delivers. Two bus instances here stand for the two processes: they share nothing but the
 * database and the queue.
 */
describe.each(transportBackends())('publish-only process (%s backend)', (backend) => {
  let db: TestDatabase;
  let publisher: TestBus;
  let worker: TestBus;
  const log = new CallLog();

  beforeAll(async () => {
    db = await createTestDatabase(`bus-publish-only-${backend}`);
    publisher = await createTestBus({ db, backend, suite: 'bus-publish-only', worker: false });
    worker = await createTestBus({ db, backend, suite: 'bus-publish-only', sameQueueAs: publisher, initialize: false });
    await worker.bus.subscribe('workflow.**', log.handler, { name: 'recorder' });
    await worker.bus.initialize();
  });

  afterAll(async () => {
    await worker?.close();
    await publisher?.close();
    await db?.drop();
  });

  it('publishes without handlers; the worker process delivers', async () => {
    const events = [newEvent(), newEvent({ type: 'workflow.completed' })];
    const published = await publisher.bus.publishAll(events);
    expect(published.map((event) => event.metadata?.jobId)).toEqual(events.map(() => `batch__${events[0].id}`));

    const ids = events.map((event) => event.id!);
    await waitFor(() => allProcessed(db, ids), { message: 'events published elsewhere processed' });
    expect(ids.map((id) => log.count(id))).toEqual([1, 1]);
    expect(await jobIdsRecorded(db, published)).toBe(true);
    expect(publisher.logger.find('log', 'publish-only')).toHaveLength(1);
  });

  it('warns about a handler subscribed at run time only where this process consumes the queue', async () => {
    await worker.bus.subscribe('audit.*', async () => undefined, { name: 'late-worker-handler' });
    await publisher.bus.subscribe('audit.*', async () => undefined, { name: 'late-publisher-handler' });

    expect(worker.logger.find('warn', '"late-worker-handler" was subscribed after start-up')).toHaveLength(1);
    expect(publisher.logger.find('warn', 'subscribed after start-up')).toHaveLength(0);
    // Handlers subscribed before initialize() (as above) draw no warning.
    expect(worker.logger.find('warn', '"recorder"')).toHaveLength(0);
  });
});
