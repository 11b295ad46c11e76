import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { createTestDatabase, waitFor, type TestDatabase } from '../support/database.js';
import { createTestBus, type TestBus, type TestBusOptions } from '../support/bus.js';
import { servicesRequired } from '../support/environment.js';
import { redisServerUnavailable, startOwnRedisServer, type OwnRedisServer } from '../support/redis-server.js';
import { describeIfRunnable } from '../support/runnable.js';
import { CallLog, allProcessed, eventRows, newEvent } from './bus-fixtures.js';

const unavailable = redisServerUnavailable();
if (unavailable && servicesRequired()) throw new Error(`EVENT_BUS_REQUIRE_SERVICES=1 but ${unavailable}`);

/** The bound this suite holds `publish` to while Redis is gone: "a few seconds". */
const PUBLISH_BOUND_MS = 5000;

/**
 * Redis stopped, restarted empty, misconfigured — on a Redis server of this suite's own (a child
 * process), so stopping it disturbs nobody else.
 */
describeIfRunnable('redis outage', unavailable)('when Redis goes away', () => {
  let db: TestDatabase;
  let redis: OwnRedisServer;

  const busOn = (options: Omit<TestBusOptions, 'db' | 'backend' | 'suite'> = {}): Promise<TestBus> =>
    createTestBus({
      db,
      backend: 'redis',
      suite: 'redis-outage',
      connection: { host: '127.0.0.1', port: redis.port },
      enqueueTimeoutMs: 1000,
      relay: { intervalMs: 200, graceMs: 300, lostJobCheckIntervalMs: 500 },
      ...options,
    });

  beforeAll(async () => {
    db = await createTestDatabase('bus-redis-outage');
    redis = await startOwnRedisServer();
  });

  afterAll(async () => {
    await redis?.stop();
    await db?.drop();
  });

  it('publish resolves within seconds while Redis is down, and the relay enqueues the event once it is back', async () => {
    const t = await busOn();
    const log = new CallLog();
    try {
      await t.bus.subscribe('**', log.handler, { name: 'recorder' });
      const warm = await t.bus.publish(newEvent());
      await waitFor(() => allProcessed(db, [warm.id]), { message: 'a delivery before the outage' });

      await redis.stop();
      const single = await withinBound(t.bus.publish(newEvent()));
      const batch = await withinBound(t.bus.publishAll([newEvent(), newEvent()]));
      const ids = [single, ...batch].map((event) => event.id);

      // Durable, not enqueued: pending with no job id, for the relay.
      expect([single, ...batch].map((event) => event.metadata?.jobId)).toEqual([undefined, undefined, undefined]);
      const rows = await eventRows(db, ids);
      expect(rows.map((row) => [row.status, row.job_id])).toEqual(ids.map(() => ['pending', null]));

      await redis.start();
      await waitFor(() => allProcessed(db, ids), {
        message: 'the stored events delivered after Redis came back',
        timeoutMs: 40_000,
      });
      // The relay recorded the jobs it added (one per event, or batches of them).
      expect((await eventRows(db, ids)).filter((row) => row.job_id === null)).toEqual([]);
      expect(ids.map((id) => log.count(id))).toEqual([1, 1, 1]);
      expect(t.logger.find('warn', 'stored but not enqueued')).toHaveLength(1);
    } finally {
      await t.close();
    }
  });

  it('re-adds the jobs Redis lost when it restarted empty', async () => {
    // No worker yet: the job waits in Redis when Redis goes down.
    const publisher = await busOn({ worker: false });
    let worker: TestBus | undefined;
    try {
      const event = await publisher.bus.publish(newEvent());
      expect(await publisher.inspect().getJobState(event.id)).toBe('waiting');
      // The job id is recorded after publish resolves (DESIGN.md 6.4): the recovery below reads it.
      await waitFor(async () => (await eventRows(db, [event.id]))[0]?.job_id === event.id, {
        message: 'the job id recorded',
      });

      await redis.stop();
      await redis.start(); // empty: no persistence

      await waitFor(() => publisher.logger.find('warn', 're-added 1 event job(s)').length === 1, {
        message: 'the lost job re-added',
        timeoutMs: 40_000,
      });
      expect(await publisher.inspect().getJobState(event.id)).toBe('waiting');

      const log = new CallLog();
      worker = await busOn({ sameQueueAs: publisher, initialize: false });
      await worker.bus.subscribe('**', log.handler, { name: 'recorder' });
      await worker.bus.initialize();
      await waitFor(() => allProcessed(db, [event.id]), { message: 'the re-added job delivered', timeoutMs: 20_000 });
      expect(log.count(event.id)).toBe(1);
    } finally {
      await worker?.close();
      await publisher.close();
    }
  });

  it('a publishing process started while Redis is down stores events and enqueues them once Redis is up', async () => {
    await redis.stop();
    const publisher = await withinBound(busOn({ worker: false }));
    let worker: TestBus | undefined;
    try {
      const event = await withinBound(publisher.bus.publish(newEvent()));
      expect((await eventRows(db, [event.id]))[0]).toMatchObject({ status: 'pending', job_id: null });

      await redis.start();
      const log = new CallLog();
      worker = await busOn({ sameQueueAs: publisher, initialize: false });
      await worker.bus.subscribe('**', log.handler, { name: 'recorder' });
      await worker.bus.initialize();
      await waitFor(() => allProcessed(db, [event.id]), { message: 'delivered once Redis is up', timeoutMs: 40_000 });
      expect(log.count(event.id)).toBe(1);
    } finally {
      await worker?.close();
      await publisher.close();
    }
  });

  it('warns at start-up when Redis may evict queued jobs', async () => {
    const admin = new Redis({ host: '127.0.0.1', port: redis.port });
    try {
      const quiet = await busOn({ worker: false, relay: false });
      await quiet.close();
      expect(quiet.logger.find('warn', 'maxmemory-policy')).toHaveLength(0);

      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const warned = await busOn({ worker: false, relay: false });
      await warned.close();
      expect(warned.logger.find('warn', 'maxmemory-policy is "allkeys-lru"')).toHaveLength(1);
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction').catch(() => undefined);
      admin.disconnect();
    }
  });
});

/** Fails the test if the call does not settle within the bound, instead of hanging until Jest's timeout. */
async function withinBound<T>(publishing: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${PUBLISH_BOUND_MS} ms`)), PUBLISH_BOUND_MS);
  });
  try {
    return await Promise.race([publishing, bound]);
  } finally {
    clearTimeout(timer);
  }
}
