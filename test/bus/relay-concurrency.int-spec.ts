import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StoredEvent } from '@app/event-bus';
import { EVENT_BUS_DEFAULTS, EventStoreRepository, PersistentEventStore, eventBusEntities } from '@app/event-bus';
import type { Job, Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { postgresClientConfig } from '../../libs/event-bus/src/store/typeorm/postgres-client-config.js';
import { TypeOrmOutbox } from '../../libs/event-bus/src/store/typeorm/typeorm-outbox.js';
import { EventEnqueuer } from '../../libs/event-bus/src/transport/bullmq/queue/event-enqueuer.js';
import { resolveQueueBackend } from '../../libs/event-bus/src/transport/bullmq/queue/queue-backend.js';
import { OutboxRelay } from '../../libs/event-bus/src/transport/outbox/outbox-relay.js';
import { createTestDatabase, testRedisConnection, uniquePrefix, type TestDatabase } from '../support/database.js';
import { transportBackends } from '../support/bus.js';
import { eventRows, newEvent } from './bus-fixtures.js';

/** An enqueuer that remembers what it enqueued: the test's window on each relay's work. */
class RecordingEnqueuer extends EventEnqueuer {
  readonly enqueued: string[] = [];
  override async enqueue(events: readonly StoredEvent[], options?: { failFast?: boolean }): Promise<string[]> {
    const jobIds = await super.enqueue(events, options);
    this.enqueued.push(...events.map((event) => event.id));
    return jobIds;
  }
}

function eventIdsOf(job: Job): string[] {
  const data = job.data as { event?: StoredEvent; events?: StoredEvent[] };
  return data.events ? data.events.map((event) => event.id) : [data.event!.id];
}

/** One relay as another process would run it: its own database connections and its own queue handle. */
interface RelayProcess {
  dataSource: DataSource;
  queue: Queue;
  enqueuer: RecordingEnqueuer;
  relay: OutboxRelay;
}

describe.each(transportBackends())('outbox relays in several processes (%s backend)', (backend) => {
  let db: TestDatabase;
  const relays: RelayProcess[] = [];
  const queueName = 'relay-concurrency';
  const prefix = uniquePrefix('relay-concurrency');

  const startRelay = async (): Promise<RelayProcess> => {
    const dataSource = await new DataSource({ type: 'postgres', url: db.url, entities: eventBusEntities }).initialize();
    const queue = resolveQueueBackend(
      backend === 'redis'
        ? { backend, connection: testRedisConnection(), prefix }
        : { backend, postgres: { connectionString: db.url } },
      () => postgresClientConfig(dataSource),
    ).createQueue(queueName);
    queue.on('error', () => undefined); // e.g. the test database dropped at the end
    await queue.waitUntilReady();
    const enqueuer = new RecordingEnqueuer(queue, 10_000, EVENT_BUS_DEFAULTS.jobBatchSize);
    const relay = new OutboxRelay(
      new TypeOrmOutbox(dataSource, 5000),
      enqueuer,
      { intervalMs: 60_000, batchSize: 50, graceMs: 0, listen: false },
      {
        log: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    );
    const process = { dataSource, queue, enqueuer, relay };
    relays.push(process);
    return process;
  };

  beforeAll(async () => {
    db = await createTestDatabase(`bus-relay-${backend}`);
  });

  afterAll(async () => {
    for (const { relay, queue, dataSource } of relays) {
      await relay.stop(2000);
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await dataSource.destroy();
    }
    await db?.drop();
  });

  it('two relays enqueue 500 stored events between them, each exactly once', async () => {
    // Stored but never enqueued, as after a crash between INSERT and enqueue.
    const store = new PersistentEventStore(new EventStoreRepository(db.dataSource));
    const events = Array.from({ length: 500 }, (_, index) => newEvent({ payload: { index } }));
    await store.append(events);
    const [a, b] = [await startRelay(), await startRelay()];

    await Promise.all([a.relay.flush(), b.relay.flush()]);

    const taken = [...a.enqueuer.enqueued, ...b.enqueuer.enqueued];
    expect(taken).toHaveLength(500);
    expect(new Set(taken).size).toBe(500);
    expect(new Set(taken)).toEqual(new Set(events.map((event) => event.id)));
    // In jobs of up to `jobBatchSize` events: each event in exactly one job, whose id its row records.
    const jobOf = new Map<string, string>();
    for (const job of await a.queue.getJobs(['wait'])) {
      for (const eventId of eventIdsOf(job)) {
        expect(jobOf.has(eventId)).toBe(false);
        jobOf.set(eventId, job.id!);
      }
    }
    expect(jobOf.size).toBe(500);
    const rows = await eventRows(db);
    expect(rows.filter((row) => row.status !== 'pending' || row.job_id !== jobOf.get(row.id))).toEqual([]);

    // Nothing is left: another round of both takes nothing.
    await Promise.all([a.relay.flush(), b.relay.flush()]);
    expect(a.enqueuer.enqueued.length + b.enqueuer.enqueued.length).toBe(500);
  });
});
