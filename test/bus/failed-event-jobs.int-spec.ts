import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UnrecoverableError, type Job } from 'bullmq';
import { postgresClientConfig } from '../../libs/event-bus/src/store/typeorm/postgres-client-config.js';
import { resolveQueueBackend } from '../../libs/event-bus/src/transport/bullmq/queue/queue-backend.js';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { createTestBus, transportBackends, type TestBus } from '../support/bus.js';
import { CallLog, allProcessed, newEvent } from './bus-fixtures.js';

/**
 * An event job fails only when its processor met an infrastructure error on every attempt (handler
 * errors never fail it). Such a job must not strand its event: while the event is unfinished, the
 * bus retries the job. A stand-in worker whose processor throws plays the broken infrastructure.
 */
describe.each(transportBackends())('failed event jobs (%s backend)', (backend) => {
  let db: TestDatabase;
  let publisher: TestBus;
  let worker: TestBus | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(`bus-failed-jobs-${backend}`);
    publisher = await createTestBus({ db, backend, suite: 'bus-failed-jobs', worker: false });
  });

  afterAll(async () => {
    await worker?.close();
    await publisher?.close();
    await db?.drop();
  });

  it('retries a failed event job whose event is unfinished, and leaves the others alone', async () => {
    const stranded = await publisher.bus.publish(newEvent());
    const finished = await publisher.bus.publish(newEvent());
    await failEveryJob(publisher, 2);
    // This one was handled after all (say, by an earlier attempt whose completion was lost).
    await db.dataSource.query(`UPDATE event_store SET status = 'processed' WHERE id = $1`, [finished.id]);
    const log = new CallLog();
    worker = await createTestBus({ db, backend, suite: 'bus-failed-jobs', sameQueueAs: publisher, initialize: false });
    await worker.bus.subscribe('**', log.handler, { name: 'recorder' });
    await worker.bus.initialize();

    await waitFor(() => allProcessed(db, [stranded.id]), {
      message: 'the stranded event delivered',
      timeoutMs: 20_000,
    });
    expect(log.count(stranded.id)).toBe(1);
    expect(log.count(finished.id)).toBe(0);
    expect(await publisher.inspect().getJobState(finished.id)).toBe('failed');
    const retried = [...publisher.logger.lines, ...worker.logger.lines].filter((line) =>
      line.message.startsWith('Retried 1 event job(s)'),
    );
    expect(retried.length).toBeGreaterThanOrEqual(1);
  });
});

/** Consumes the queue with a processor that fails every job for good, until `count` jobs have failed. */
async function failEveryJob(t: TestBus, count: number): Promise<void> {
  const { WorkerClass, workerConnection, prefix } = resolveQueueBackend(t.options, () =>
    postgresClientConfig(t.eventStore.repository.dataSource),
  );
  const failing = new WorkerClass(
    t.queueName,
    async (job: Job) => {
      throw new UnrecoverableError(`PostgreSQL unreachable while processing ${job.id}`);
    },
    { connection: workerConnection as never, prefix },
  );
  try {
    await waitFor(async () => (await t.inspect().getJobCounts('failed')).failed >= count, {
      message: `${count} failed jobs`,
    });
  } finally {
    await failing.close();
  }
}
