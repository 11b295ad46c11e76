/**
 * The library as a user builds it outside Nest (the seed's usage): a TypeORM DataSource with the
 * library's entities, `PersistentEventStore`, and `BullMQEventBus` on the run's queue prefix,
 * with its defaults (concurrency 10, the relay on). The handler is subscribed before
 * `initialize()`, as every worker process of a shared queue must.
 */
import { BullMQEventBus, EventStoreRepository, PersistentEventStore, eventBusEntities } from '@app/event-bus';
import type { EventBusCoreOptions, EventHandler, SubscribeOptions } from '@app/event-bus';
import { ConsoleLogger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { DataSource } from 'typeorm';
import { WORKER_CONCURRENCY } from '../support/bench-config.js';
import type { BenchEnvironment } from '../support/bench-environment.js';
import type { BenchRedisConnection } from '../support/bench-redis.js';
import { createBenchQueue } from '../support/bench-queues.js';
import { SqlRecorder } from '../support/sql-recorder.js';

export interface LibraryBusOptions extends Pick<EventBusCoreOptions, 'worker' | 'relay' | 'metrics'> {
  queueName: string;
  /** `postgres`: BullMQ's PostgreSQL backend, no Redis (see `createPostgresBackendBus`). @default 'redis' */
  backend?: 'redis' | 'postgres';
  /** Subscribed to every event (`**`) as `bench.noop`. */
  handler?: EventHandler;
  /** Options of that subscription (e.g. `{ ordered: true }`). */
  handlerOptions?: Omit<SubscribeOptions, 'name'>;
}

export interface LibraryBus {
  bus: BullMQEventBus;
  store: PersistentEventStore;
  /** The bus's queue seen from outside (to pause, resume and obliterate it); the bus owns its own. */
  queue: Queue;
  /** The harness's pool on the bus's database (truncating, waiting for `processed`). */
  db: DataSource;
  /** Counts the bus's SQL. */
  sql: SqlRecorder;
}

/** Builds and starts a bus on `dataSource` (initialized, with `eventBusEntities`). */
export async function buildLibraryBus(
  dataSource: DataSource,
  redis: BenchRedisConnection,
  prefix: string,
  options: LibraryBusOptions,
): Promise<{ bus: BullMQEventBus; store: PersistentEventStore }> {
  const store = new PersistentEventStore(new EventStoreRepository(dataSource));
  const queueBackend: Pick<EventBusCoreOptions, 'backend' | 'connection' | 'prefix'> =
    options.backend === 'postgres' ? { backend: 'postgres' } : { connection: redis, prefix };
  const bus = new BullMQEventBus({
    ...queueBackend,
    queueName: options.queueName,
    concurrency: WORKER_CONCURRENCY,
    eventStore: store,
    worker: options.worker,
    relay: options.relay,
    metrics: options.metrics,
    // Start-up lines would drown the tables; warnings and errors still show.
    logger: new ConsoleLogger('EventBus', { logLevels: ['warn', 'error'] }),
  });
  if (options.handler) await bus.subscribe('**', options.handler, { ...options.handlerOptions, name: 'bench.noop' });
  await bus.initialize();
  return { bus, store };
}

/**
 * A bus of the run, closed (and its queue obliterated) at cleanup. `ownDatabase`: in a database of
 * its own, for a second library bus of the same run (one bus's relay and lost-job recovery would
 * take up the other's rows in a shared `event_store`).
 */
export async function createLibraryBus(
  env: BenchEnvironment,
  options: LibraryBusOptions & { ownDatabase?: boolean },
): Promise<LibraryBus> {
  // Created first, so it is obliterated after the bus has closed (cleanups run last-first).
  const queue = createBenchQueue(env, options.queueName);
  const sql = new SqlRecorder();
  const own = options.ownDatabase ? await env.createDatabase(options.queueName) : undefined;
  const dataSource = await env.openDataSource({ url: own?.url, entities: eventBusEntities, logger: sql });
  const { bus, store } = await buildLibraryBus(dataSource, env.redis, env.prefix, options);
  env.onCleanup(() => bus.close());
  return { bus, store, queue, db: own?.dataSource ?? env.dataSource, sql };
}

/**
 * A bus on BullMQ's PostgreSQL backend (no Redis): event store and queue in a database of the run
 * made for it (dropped at cleanup), so neither this bus's relay and recovery nor the Redis bus's
 * touch the other's rows.
 */
export async function createPostgresBackendBus(
  env: BenchEnvironment,
  options: Omit<LibraryBusOptions, 'backend'>,
): Promise<Omit<LibraryBus, 'queue'>> {
  const database = await env.createDatabase('pgqueue');
  const sql = new SqlRecorder();
  const dataSource = await env.openDataSource({ url: database.url, entities: eventBusEntities, logger: sql });
  const { bus, store } = await buildLibraryBus(dataSource, env.redis, env.prefix, { ...options, backend: 'postgres' });
  env.onCleanup(() => bus.close());
  return { bus, store, db: database.dataSource, sql };
}
