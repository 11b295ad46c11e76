/**
 * Where BullMQ keeps the event queue: Redis (the default) or BullMQ's PostgreSQL backend.
 * Resolves, from the bus options and the store's connection settings, the Queue/Worker classes bound to
 * the backend and the connection options of the producer and of the workers.
 */
import type { LoggerService } from '@nestjs/common';
import { Queue, Worker, createPostgresBackend, withBackend } from 'bullmq';
import type { PostgresPoolConfig, QueueOptions, RedisOptions } from 'bullmq';
import type { StoreConnectionSettings } from '../../../core/ports/delivery-ledger.js';
import { EventBusConfigurationError } from '../../../shared/errors.js';
import type { EventBusCoreOptions, RedisConnectionOptions } from '../../../core/event-bus.options.js';
import { EVENT_BUS_DEFAULTS } from '../../../core/event-bus.options.js';
import { withDeadline } from '../../../shared/with-deadline.js';
import { parseRedisInfo, redisClientOf } from './redis-server-info.js';

export type QueueBackendKind = 'redis' | 'postgres';

/**
 * The queue and worker classes of one backend. They are typed as BullMQ's default (Redis) classes:
 * the rest of the transport uses only the backend-neutral API, and the connection is opaque to it.
 */
export interface QueueBackend {
  readonly kind: QueueBackendKind;
  readonly QueueClass: typeof Queue;
  readonly WorkerClass: typeof Worker;
  /** Producer side: fails fast when the backend is unreachable, so `publish` is never held by it. */
  readonly producerConnection: unknown;
  /** Worker side: retries forever, as BullMQ's blocking connections require. */
  readonly workerConnection: unknown;
  /** BullMQ key prefix (Redis only; the PostgreSQL backend namespaces by schema). */
  readonly prefix: string | undefined;
  /** Creates the producer queue of this backend. */
  createQueue(name: string): Queue;
}

/** Schema of BullMQ's own tables on the PostgreSQL backend. */
export const DEFAULT_POSTGRES_QUEUE_SCHEMA = 'bullmq';

/**
 * `storeConnection`: the connection settings of the event store's database (the ledger's
 * `connectionSettings()`), asked for only when the PostgreSQL backend defaults to that database.
 */
export function resolveQueueBackend(
  options: EventBusCoreOptions,
  storeConnection: () => StoreConnectionSettings,
): QueueBackend {
  const kind = options.backend ?? EVENT_BUS_DEFAULTS.backend;
  if (kind === 'redis') {
    return redisBackend(options);
  }
  if (kind === 'postgres') {
    return postgresBackend(options, storeConnection);
  }
  throw new EventBusConfigurationError('backend', `must be 'redis' or 'postgres', got ${JSON.stringify(kind)}`);
}

function redisBackend(options: EventBusCoreOptions): QueueBackend {
  const producerConnection = redisConnectionOptions(options.connection, 'producer');
  const workerConnection = redisConnectionOptions(options.connection, 'worker');
  const prefix = options.prefix ?? EVENT_BUS_DEFAULTS.prefix;
  return {
    kind: 'redis',
    QueueClass: Queue,
    WorkerClass: Worker,
    producerConnection,
    workerConnection,
    prefix,
    createQueue: (name) => new Queue(name, { connection: producerConnection, prefix }),
  };
}

function postgresBackend(options: EventBusCoreOptions, storeConnection: () => StoreConnectionSettings): QueueBackend {
  const connection = postgresQueueConnection(options, storeConnection);
  const classes = withBackend(createPostgresBackend);
  // The bound classes differ from the Redis ones only in their backend and connection type
  // parameters, which the rest of the transport never names: widen them once, here.
  const QueueClass = classes.Queue as unknown as typeof Queue;
  const WorkerClass = classes.Worker as unknown as typeof Worker;
  const queueOptions = { connection } as unknown as QueueOptions;
  return {
    kind: 'postgres',
    QueueClass,
    WorkerClass,
    producerConnection: connection,
    workerConnection: connection,
    prefix: undefined,
    createQueue: (name) => new QueueClass(name, queueOptions),
  };
}

/**
 * ioredis options from the bus's `connection` option (a URL, `{ url }`, or host/port/password).
 * The producer has no offline queue: while Redis is unreachable a command fails at once instead of
 * waiting in memory, so `publish` leaves the event to the relay. Workers keep BullMQ's required
 * `maxRetriesPerRequest: null` (their blocking commands must survive reconnects).
 */
export function redisConnectionOptions(
  connection: EventBusCoreOptions['connection'],
  role: 'producer' | 'worker',
): RedisOptions {
  const given: RedisConnectionOptions = typeof connection === 'string' ? { url: connection } : (connection ?? {});
  const { url, tls, ...fields } = given;
  const base: RedisOptions = { host: '127.0.0.1', port: 6379, ...dropUndefined(fields) };
  if (url !== undefined) {
    base.url = checkRedisUrl(url);
  }
  if (tls !== undefined && tls !== false) {
    base.tls = tls === true ? {} : tls;
  }
  if (role === 'producer') {
    return { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1 };
  }
  return { ...base, maxRetriesPerRequest: null };
}

function checkRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Never echo the URL: it may hold a password.
    throw new EventBusConfigurationError('connection', 'is not a valid Redis URL (expected redis://… or rediss://…)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new EventBusConfigurationError(
      'connection',
      `URL must start with redis:// or rediss://, got ${parsed.protocol}`,
    );
  }
  return url;
}

/**
 * Connection of the PostgreSQL queue backend: the `postgres` option, or by default the event store's
 * own database (its connection settings). `migrate: true` lets BullMQ create its schema.
 */
export function postgresQueueConnection(
  options: EventBusCoreOptions,
  storeConnection: () => StoreConnectionSettings,
): PostgresPoolConfig {
  const schema = options.postgres?.schema ?? DEFAULT_POSTGRES_QUEUE_SCHEMA;
  const target = options.postgres?.connectionString
    ? { connectionString: options.postgres.connectionString }
    : storeConnection();
  // pg accepts a password function where BullMQ's narrower config type says string.
  return { ...(target as PostgresPoolConfig), schema, migrate: true };
}

/**
 * Warns (once, at start-up) when Redis may evict keys: with any `maxmemory-policy` but `noeviction`,
 * Redis under memory pressure silently deletes queued jobs. Reads INFO rather than CONFIG GET, which
 * managed services often disable; says nothing when neither answers.
 */
export async function warnUnlessNoEviction(queue: Queue, logger: LoggerService, timeoutMs: number): Promise<void> {
  try {
    const client = await withDeadline(redisClientOf(queue), timeoutMs, 'Redis');
    if (!client) return;
    const { maxmemoryPolicy } = parseRedisInfo(await withDeadline(client.info(), timeoutMs, 'Redis INFO'));
    if (maxmemoryPolicy !== undefined && maxmemoryPolicy !== 'noeviction') {
      logger.warn(
        `Redis maxmemory-policy is "${maxmemoryPolicy}": under memory pressure Redis may delete queued event ` +
          'jobs. Set "maxmemory-policy noeviction" (the relay re-adds lost jobs, but only after it notices).',
      );
    }
  } catch {
    // INFO refused or Redis unreachable: nothing to say now; enqueueing reports an outage on its own.
  }
}

function dropUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
