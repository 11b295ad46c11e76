import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createTestDatabase, testRedisConnection, waitFor, type TestDatabase } from '../support/database.js';
import { handlerJobId } from '../../libs/event-bus/src/transport/bullmq/jobs/event-jobs.js';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { CallLog, allProcessed, eventRows, newEvent } from './bus-fixtures.js';

/**
 * "Nothing stranded": an event `publish` resolved for ends `processed` whichever single write failed
 * on the way (the job-id record, a status write) and whatever the queue lost at the same time. The
 * failed writes are played by the test: a trigger refusing the job-id record, or a row put back to
 * the state a lost write leaves behind.
 */
describe.each(transportBackends())('stranded events (%s backend)', (backend) => {
  let db: TestDatabase;
  const opened: TestBus[] = [];

  const bus = async (options: { worker?: boolean; sameQueueAs?: TestBus; log?: CallLog } = {}): Promise<TestBus> => {
    const t = await createTestBus({
      db,
      backend,
      suite: 'bus-stranded',
      worker: options.worker ?? true,
      sameQueueAs: options.sameQueueAs,
      initialize: false,
    });
    opened.push(t);
    if (options.log) await t.bus.subscribe('**', options.log.handler, { name: 'recorder' });
    await t.bus.initialize();
    return t;
  };

  beforeAll(async () => {
    db = await createTestDatabase(`bus-stranded-${backend}`);
  });

  afterEach(async () => {
    // Buses sharing a queue first, the one that created it (and empties it) last.
    for (const t of opened.splice(0).reverse()) await t.close();
    await db.dataSource.query(`DROP TRIGGER IF EXISTS refuse_job_id_record ON event_store`);
    await db.dataSource.query(`DROP TRIGGER IF EXISTS refuse_success_record ON event_handler_deliveries`);
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('records the job id with the status when its own write failed', async () => {
    await refuseJobIdRecord(db);
    // Nobody consumes yet: the event stays `pending` while the publisher (and the relay) fail to record its job id.
    const publisher = await bus({ worker: false });
    const event = await publisher.bus.publish(newEvent());
    // The publisher records job ids after publish resolves.
    await waitFor(() => publisher.logger.find('warn', 'Could not record the job ids').length === 1, {
      message: "the publisher's job-id record refused",
    });
    expect((await eventRows(db, [event.id]))[0]).toMatchObject({ status: 'pending', job_id: null });

    const log = new CallLog();
    await bus({ sameQueueAs: publisher, log });
    await waitFor(() => allProcessed(db, [event.id]), { message: 'the event processed' });
    expect((await eventRows(db, [event.id]))[0].job_id).toBe(event.id);
    expect(log.count(event.id)).toBe(1);
  });

  it('delivers a `processing` event with no job id whose job the queue lost', async () => {
    const publisher = await bus({ worker: false });
    const event = await publisher.bus.publish(newEvent());
    // A worker took the job and marked the event, its job-id record had failed, then the queue lost the job.
    await db.dataSource.query(`UPDATE event_store SET status = 'processing', job_id = NULL WHERE id = $1`, [event.id]);
    await publisher.inspect().obliterate({ force: true });

    const log = new CallLog();
    await bus({ sameQueueAs: publisher, log });
    await waitFor(() => allProcessed(db, [event.id]), { message: 'the stranded event processed', timeoutMs: 15_000 });
    expect(log.count(event.id)).toBe(1);
    expect((await eventRows(db, [event.id]))[0].job_id).toBe(event.id);
  });

  // The bus's marker of Redis's run lives in Redis; the PostgreSQL backend has nothing of the kind to
  // lose, so the case exists only on Redis.
  const onRedis = backend === 'redis' ? it : undefined;
  onRedis?.('delivers a `processing` event with no job id when Redis lost all its data', async () => {
    const publisher = await bus({ worker: false });
    const event = await publisher.bus.publish(newEvent());
    await db.dataSource.query(`UPDATE event_store SET status = 'processing', job_id = NULL WHERE id = $1`, [event.id]);
    // Everything under this test's prefix, the bus's own marker too: what a restart without persistence leaves.
    await deleteKeysUnder(publisher);

    const log = new CallLog();
    const worker = await bus({ sameQueueAs: publisher, log });
    await waitFor(() => allProcessed(db, [event.id]), { message: 'the stranded event processed', timeoutMs: 15_000 });
    expect(log.count(event.id)).toBe(1);
    expect(
      [...publisher.logger.lines, ...worker.logger.lines].some((line) => line.message.includes('had lost its data')),
    ).toBe(true);
  });

  it('writes the final status of an event whose handlers all finished but whose status write was lost', async () => {
    let calls = 0;
    const t = await bus();
    await t.bus.subscribe(
      '**',
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('first try fails');
      },
      { name: 'flaky', retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 10 } } },
    );
    const event = await t.bus.publish(newEvent());
    await waitFor(() => allProcessed(db, [event.id]), { message: 'the event processed after a retry' });
    // As if the handler job's final status write had failed: the event is left `processing`.
    await db.dataSource.query(`UPDATE event_store SET status = 'processing' WHERE id = $1`, [event.id]);

    await waitFor(() => allProcessed(db, [event.id]), { message: 'the final status written again', timeoutMs: 15_000 });
    expect(calls).toBe(2);
  });

  it('retries a handler job whose outcome could not be recorded', async () => {
    let calls = 0;
    const t = await bus();
    await t.bus.subscribe(
      '**',
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('first try fails');
      },
      { name: 'flaky', retry: { maxAttempts: 2, backoff: { type: 'fixed', delay: 10 } } },
    );
    // The handler job's success cannot be written, so its only attempt fails with a database error.
    await db.dataSource.query(`
      CREATE OR REPLACE FUNCTION refuse_success_record() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'success record refused by the test'; END $$`);
    await db.dataSource.query(`
      CREATE TRIGGER refuse_success_record BEFORE UPDATE ON event_handler_deliveries FOR EACH ROW
      WHEN (NEW.status = 'succeeded') EXECUTE FUNCTION refuse_success_record()`);
    const event = await t.bus.publish(newEvent());
    const jobId = handlerJobId(event.id, 'flaky');
    await waitFor(async () => (await t.inspect().getJobState(jobId)) === 'failed', {
      message: 'the handler job failed',
    });
    expect((await eventRows(db, [event.id]))[0].status).toBe('processing');
    await db.dataSource.query(`DROP TRIGGER refuse_success_record ON event_handler_deliveries`);

    await waitFor(() => allProcessed(db, [event.id]), { message: 'the event processed', timeoutMs: 15_000 });
    expect(calls).toBe(3);
  });
});

/** Deletes every key under the test bus's own prefix (never anything else on the shared Redis). */
async function deleteKeysUnder(t: TestBus): Promise<void> {
  const client = new Redis(testRedisConnection());
  try {
    const keys = await client.keys(`${t.prefix}:*`);
    if (keys.length > 0) await client.del(...keys);
  } finally {
    client.disconnect();
  }
}

/** The publisher's and the relay's job-id record (job_id set while the event is `pending`) fails. */
async function refuseJobIdRecord(db: TestDatabase): Promise<void> {
  await db.dataSource.query(`
    CREATE OR REPLACE FUNCTION refuse_job_id_record() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'job id record refused by the test'; END $$`);
  await db.dataSource.query(`
    CREATE TRIGGER refuse_job_id_record BEFORE UPDATE ON event_store FOR EACH ROW
    WHEN (OLD.job_id IS NULL AND NEW.job_id IS NOT NULL AND NEW.status = 'pending')
    EXECUTE FUNCTION refuse_job_id_record()`);
}
