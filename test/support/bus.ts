/**
 * Helpers for the transport suites: which queue backends to run on, and a `BullMQEventBus` on the
 * test file's own database with a queue of its own (its own Redis prefix, or BullMQ's PostgreSQL
 * backend in that database).
 *
 *   describe.each(transportBackends())('%s backend', (backend) => {
 *     let db: TestDatabase;
 *     let t: TestBus;
 *     beforeAll(async () => {
 *       db = await createTestDatabase('publish');
 *       t = await createTestBus({ db, backend, suite: 'publish' });
 *     });
 *     afterAll(async () => { await t?.close(); await db?.drop(); });
 *   });
 */
import { randomBytes } from 'node:crypto';
import type { LoggerService } from '@nestjs/common';
import { BullMQEventBus, PersistentEventStore, EventStoreRepository, SubscriptionManager } from '@app/event-bus';
import type { EventBusOptions } from '@app/event-bus';
import { Queue as BullQueue } from 'bullmq';
import type { Queue } from 'bullmq';
import { postgresClientConfig } from '../../libs/event-bus/src/store/typeorm/postgres-client-config.js';
import { resolveQueueBackend } from '../../libs/event-bus/src/transport/bullmq/queue/queue-backend.js';
import type { TestDatabase } from './database.js';
import { testRedisConnection, uniquePrefix } from './database.js';
import { redisAvailable, reportNotRunnable, servicesRequired } from './environment.js';

export type TransportBackend = 'redis' | 'postgres';

let reported = false;

/**
 * The queue backends to run transport suites on: always `postgres`, and `redis` when the run has a
 * Redis (see environment.ts). `EVENT_BUS_TEST_BACKENDS=postgres` (comma-separated) narrows the list.
 */
export function transportBackends(): TransportBackend[] {
  const wanted = (process.env.EVENT_BUS_TEST_BACKENDS ?? 'redis,postgres').split(',').map((name) => name.trim());
  const backends: TransportBackend[] = [];
  if (wanted.includes('redis')) {
    if (redisAvailable()) backends.push('redis');
    else if (servicesRequired()) throw new Error('EVENT_BUS_REQUIRE_SERVICES=1 but no Redis is available');
    else if (!reported) {
      reported = true;
      reportNotRunnable('transport suites (redis backend)', 'no Redis: they ran on the PostgreSQL backend only');
    }
  }
  if (wanted.includes('postgres')) backends.push('postgres');
  return backends;
}

/** One logged line, as the bus's logger received it. */
export interface LoggedLine {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  message: string;
}

/** Keeps what the bus logs, for assertions; prints it too when `EVENT_BUS_TEST_LOGS=1`. */
export class CapturingLogger implements LoggerService {
  readonly lines: LoggedLine[] = [];
  constructor(private readonly name = 'EventBus') {}
  log(message: unknown): void {
    this.keep('log', message);
  }
  error(message: unknown): void {
    this.keep('error', message);
  }
  warn(message: unknown): void {
    this.keep('warn', message);
  }
  debug(message: unknown): void {
    this.keep('debug', message);
  }
  verbose(message: unknown): void {
    this.keep('verbose', message);
  }
  /** Lines of one level whose text contains `fragment`. */
  find(level: LoggedLine['level'], fragment: string): LoggedLine[] {
    return this.lines.filter((line) => line.level === level && line.message.includes(fragment));
  }
  private keep(level: LoggedLine['level'], message: unknown): void {
    const text = String(message);
    this.lines.push({ level, message: text });
    if (process.env.EVENT_BUS_TEST_LOGS === '1') process.stderr.write(`[${this.name}] ${level}: ${text}\n`);
  }
}

export interface TestBusOptions extends Partial<Omit<EventBusOptions, 'backend'>> {
  db: TestDatabase;
  backend: TransportBackend;
  /** Names the queue prefix (Redis) so leftovers can be traced to a suite. */
  suite: string;
  /** Share the queue of another test bus (same queue name and prefix): e.g. a publish-only bus and a worker bus. */
  sameQueueAs?: TestBus;
  /** Call `initialize()` before returning. @default true */
  initialize?: boolean;
}

export interface TestBus {
  bus: BullMQEventBus;
  eventStore: PersistentEventStore;
  subscriptions: SubscriptionManager;
  logger: CapturingLogger;
  backend: TransportBackend;
  queueName: string;
  /** Redis key prefix (undefined on the PostgreSQL backend, which keeps queues in the database). */
  prefix: string | undefined;
  /** The bus's options as given to its constructor (to build a second bus on the same queue). */
  options: EventBusOptions;
  /** A queue handle of its own on the bus's queue, for looking at jobs (counts, states). Created on first use. */
  inspect(): Queue;
  /** Closes the bus and the inspection queue, and empties the queue. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * A bus on the test database with a fresh queue. Defaults suited to tests: a fast relay sweep, a
 * short enqueue timeout, retries with short delays; any option can be overridden.
 */
export async function createTestBus(options: TestBusOptions): Promise<TestBus> {
  const { db, backend, suite, sameQueueAs, initialize = true, ...overrides } = options;
  const logger = new CapturingLogger(`EventBus:${suite}`);
  const eventStore =
    (overrides.eventStore as PersistentEventStore | undefined) ??
    new PersistentEventStore(new EventStoreRepository(db.dataSource));
  const subscriptions = overrides.subscriptions ?? new SubscriptionManager({ logger });
  const queueName = sameQueueAs?.queueName ?? overrides.queueName ?? `events-${randomBytes(4).toString('hex')}`;
  const prefix = backend === 'redis' ? (sameQueueAs?.prefix ?? overrides.prefix ?? uniquePrefix(suite)) : undefined;

  const busOptions: EventBusOptions = {
    queueName,
    backend,
    enqueueTimeoutMs: 2000,
    defaultRetry: { maxAttempts: 3, backoff: { type: 'fixed', delay: 50 } },
    relay: { intervalMs: 200, graceMs: 500, lostJobCheckIntervalMs: 1000 },
    logger,
    ...overrides,
    eventStore,
    subscriptions,
  };
  if (backend === 'redis') {
    busOptions.connection = overrides.connection ?? testRedisConnection();
    busOptions.prefix = prefix;
  } else {
    busOptions.postgres = overrides.postgres ?? { connectionString: db.url };
  }

  const bus = new BullMQEventBus(busOptions);
  let inspector: Queue | undefined;
  const inspect = (): Queue => {
    if (!inspector) {
      inspector = resolveQueueBackend(busOptions, () => postgresClientConfig(db.dataSource)).createQueue(queueName);
      // Connection errors (e.g. the test database dropped right after close) are not the test's subject.
      inspector.on('error', () => undefined);
    }
    return inspector;
  };

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      await bus.close();
      // The bus that created the queue empties it (on Redis, where it would outlive the test database):
      // close the buses that share it first.
      if (backend === 'redis' && !sameQueueAs) await purgeQueue(inspect(), prefix!);
      await inspector?.close();
    })());

  const testBus: TestBus = {
    bus,
    eventStore,
    subscriptions,
    logger,
    backend,
    queueName,
    prefix,
    options: busOptions,
    inspect,
    close,
  };
  if (initialize) {
    try {
      await bus.initialize();
    } catch (error) {
      await close().catch(() => undefined);
      throw error;
    }
  }
  return testBus;
}

/** Empties a Redis queue and removes the bus's own key beside it (both would outlive the test). */
async function purgeQueue(queue: Queue, prefix: string): Promise<void> {
  await queue.obliterate({ force: true }).catch(() => undefined);
  const client = await queue.getBackend().client;
  await client.del(`${prefix}:event-bus:${queue.name}:run-id`).catch(() => undefined);
}

/** `purgeQueue` for a queue the test did not make through `createTestBus` (e.g. the seed example's). */
export async function purgeRedisQueue(connection: object, prefix: string, queueName: string): Promise<void> {
  const queue = new BullQueue(queueName, { connection, prefix });
  try {
    await purgeQueue(queue, prefix);
  } finally {
    await queue.close();
  }
}
