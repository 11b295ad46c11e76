import type { LoggerService } from '@nestjs/common';
import type { RetryPolicy } from '../subscriptions/retry-policy.js';
import type { EventBusMetricsOption } from '../observability/metrics-options.js';

/** Where BullMQ keeps its queue when `backend` is `'redis'`: a URL, or the seed's host/port/password shape. */
export interface RedisConnectionOptions {
  /** `redis://[:password@]host[:port][/db]` or `rediss://…`; takes precedence over the fields below. */
  url?: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 6379 */
  port?: number;
  username?: string;
  password?: string;
  /** @default 0 */
  db?: number;
  /** TLS options for ioredis, or `true` for defaults. */
  tls?: boolean | Record<string, unknown>;
}

/** Where BullMQ keeps its queue when `backend` is `'postgres'`. */
export interface PostgresQueueConnectionOptions {
  /** @default the event store's own database */
  connectionString?: string;
  /** Schema of BullMQ's tables. @default 'bullmq' */
  schema?: string;
}

/** The relay (outbox) that enqueues stored events whose enqueue did not happen yet. */
export interface RelayOptions {
  /** @default true */
  enabled?: boolean;
  /** Period of the sweep for rows nobody announced, in ms. @default 1000 */
  intervalMs?: number;
  /** Rows claimed per round. @default 500 */
  batchSize?: number;
  /** Age a row must reach before a sweep takes it, so in-flight publishes are not enqueued twice, in ms. @default 2000 */
  graceMs?: number;
  /**
   * How often to look for unfinished events that nothing drives any more (a job the queue lost, e.g.
   * on a Redis restart without persistence, or a job-id or status write that failed), in ms; also the
   * age from which an unfinished event is looked at on every check. @default 30000
   */
  lostJobCheckIntervalMs?: number;
}

/** Options shared by `EventBusModule.forRoot()` and `new BullMQEventBus()`. */
export interface EventBusCoreOptions {
  /** Redis connection for BullMQ (`backend: 'redis'`). @default { host: '127.0.0.1', port: 6379 } */
  connection?: RedisConnectionOptions | string;
  /** @default 'workflow-events' */
  queueName?: string;
  /** BullMQ key prefix; use braces (`{workflow-events}`) on Redis Cluster. @default 'bull' */
  prefix?: string;
  /** Jobs whose handlers run at once in one worker process (an event's handlers count as one). @default 10 */
  concurrency?: number;
  /**
   * Jobs one worker process takes from the queue beyond `concurrency`. They wait in the process for
   * a handler slot, while a job whose handlers are done commits its outcome (status, BullMQ
   * completion) without holding one, so short handlers keep every slot busy. With slow handlers and
   * a short queue they are jobs another process could have run: `0` leaves every job that is not
   * running in the queue. @default 3 × concurrency
   */
  prefetch?: number;
  /** Retry policy of handlers that declare none. @default 3 attempts, exponential from 1 s */
  defaultRetry?: RetryPolicy;
  /** Consume events in this process. `false` makes a publish-only process. @default true */
  worker?: boolean;
  /** Queue backend. @default 'redis' */
  backend?: 'redis' | 'postgres';
  /** Connection of the PostgreSQL queue backend (`backend: 'postgres'`). */
  postgres?: PostgresQueueConnectionOptions;
  /** Largest accepted payload, as serialized JSON bytes. @default 1048576 (1 MiB) */
  maxPayloadBytes?: number;
  /**
   * Most events one BullMQ job carries (DESIGN.md 6.4). A publish batch (a `publishAll`, or concurrent
   * `publish` calls coalesced) goes to the queue in jobs of up to this many events, and about 1 MiB of
   * payload: fewer queue round trips per event, so more throughput and a shorter latency tail. The
   * price: one worker takes the whole job (other processes share the load job by job), and a job that
   * stalls (its worker crashed) is delivered again as a whole, its finished events skipped. `1` makes
   * one job per event. At most 1000. @default 100
   */
  jobBatchSize?: number;
  /**
   * Longest one attempt of a handler may run, in ms, for handlers that declare no `timeoutMs` of
   * their own: past it the attempt fails with `HandlerTimeoutError` (retried under the handler's
   * policy) and `context.signal` is aborted. No limit by default.
   */
  handlerTimeoutMs?: number;
  /**
   * Ordered handlers (`@OnEvent(..., { ordered: true })`): a stopped or killed process's partition
   * keys are taken over by another within this, in ms. Each process holds leases on hash buckets of
   * keys and renews them three times per lease; a shorter bound means more renewals. @default 30000
   */
  orderedTakeoverMs?: number;
  /** BullMQ worker settings passed through (lockDuration, stalledInterval, maxStalledCount, …). */
  workerOptions?: EventBusWorkerOptions;
  /**
   * How long `publish` waits for the queue before leaving the event to the relay, in ms; also the bound
   * of each queue step of `close()` when Redis does not answer. @default 2000
   */
  enqueueTimeoutMs?: number;
  /**
   * How long `close()` lets running handlers finish, in ms. Past it the worker closes without them:
   * their jobs stay active in the queue until their lock expires, and BullMQ's stalled-job recovery
   * gives them to a worker again (the event is not lost; those handlers run again). Every later step
   * of `close()` has a deadline of its own (`enqueueTimeoutMs`), so `close()` settles whether
   * PostgreSQL and Redis answer, refuse or hang. @default 10000
   */
  shutdownTimeoutMs?: number;
  relay?: RelayOptions | boolean;
  /**
   * How long one statement of the bus's own store queries (`getFailedDeliveries`, `retryFailed`)
   * may wait for PostgreSQL before it fails with `StoreUnavailableError`, in ms. The Nest module
   * gives the event store the same bound (publishing and queries); a bus built by hand takes its
   * store's (`PersistentEventStoreOptions.storeTimeoutMs`). @default 5000
   */
  storeTimeoutMs?: number;
  /**
   * Prometheus metrics through prom-client (an optional peer dependency): `true` registers them in
   * prom-client's default registry, `{ registry }` in yours. See the README's Operations section.
   * @default false
   */
  metrics?: EventBusMetricsOption;
  logger?: LoggerService;
}

/** The BullMQ worker settings a user may tune. */
export interface EventBusWorkerOptions {
  /** @default 30000 */
  lockDuration?: number;
  /** A crashed worker's jobs are taken up again within this interval. @default 30000 */
  stalledInterval?: number;
  /**
   * Times a job may stall (its worker crashed, or closed with it still running) and be given back
   * rather than failed. The library sets 5 (BullMQ's own default is 1): an interrupted handler is run
   * again, not parked. @default 5
   */
  maxStalledCount?: number;
  [setting: string]: unknown;
}

/** Upper bound of `jobBatchSize`: a job's events share one lock, renewed while the slowest runs. */
export const MAX_JOB_BATCH_SIZE = 1000;

export const EVENT_BUS_DEFAULTS = Object.freeze({
  queueName: 'workflow-events',
  prefix: 'bull',
  concurrency: 10,
  worker: true,
  backend: 'redis' as const,
  maxPayloadBytes: 1024 * 1024,
  jobBatchSize: 100,
  enqueueTimeoutMs: 2000,
  storeTimeoutMs: 5000,
  shutdownTimeoutMs: 10_000,
  orderedTakeoverMs: 30_000,
});
