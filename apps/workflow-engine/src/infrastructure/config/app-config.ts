/**
 * The app's configuration, read once from the environment (every variable is listed, with its
 * default, in `.env.example`). A bad value stops the start with a message naming the variable.
 */
import { resolve } from 'node:path';
import type { RedisConnectionOptions, RetryPolicy } from '@app/event-bus';

export type QueueConfig =
  { backend: 'redis'; connection: RedisConnectionOptions; source: string } | { backend: 'postgres'; source: string };

export interface DemoConfig {
  /** How long a `slow` node works when its definition does not say. */
  slowNodeMs: number;
  /** How many tries of a `flaky` node fail on purpose when its definition does not say. */
  flakyFailures: number;
}

export interface AppConfig {
  port: number;
  /** `undefined`: run an embedded PostgreSQL (see `embedded`). */
  databaseUrl: string | undefined;
  embedded: { dataDir: string; port: number; database: string };
  queue: QueueConfig;
  queueName: string;
  queuePrefix: string;
  concurrency: number;
  /** Tenant of workflows started without one. */
  tenantId: string;
  /** Retry policy of the node runner, the handler that runs workflow nodes. */
  nodeRetry: RetryPolicy;
  demo: DemoConfig;
}

/** The configuration once a database is known: what `AppModule.forRoot()` takes. */
export type ResolvedAppConfig = AppConfig & { databaseUrl: string };

/** Injection token of the `ResolvedAppConfig`. */
export const APP_CONFIG = Symbol('APP_CONFIG');

export const DEFAULT_TENANT_ID = '00000000-0000-4000-8000-000000000001';

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): AppConfig {
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    embedded: {
      dataDir: resolve(text(env, 'EMBEDDED_POSTGRES_DIR') ?? '.data/postgres'),
      port: integer(env, 'EMBEDDED_POSTGRES_PORT', 0, 0, 65535),
      database: 'workflow_engine',
    },
    queue: queueConfig(env),
    queueName: text(env, 'EVENT_QUEUE_NAME') ?? 'workflow-events',
    queuePrefix: text(env, 'EVENT_QUEUE_PREFIX') ?? 'bull',
    concurrency: integer(env, 'WORKER_CONCURRENCY', 10, 1, 1000),
    tenantId: uuid(env, 'TENANT_ID') ?? DEFAULT_TENANT_ID,
    nodeRetry: {
      maxAttempts: integer(env, 'NODE_MAX_ATTEMPTS', 3, 1, 100),
      backoff: { type: 'exponential', delay: integer(env, 'NODE_RETRY_DELAY_MS', 1000, 0, 3_600_000) },
    },
    demo: {
      slowNodeMs: integer(env, 'SLOW_NODE_MS', 3000, 0, 60_000),
      flakyFailures: integer(env, 'FLAKY_NODE_FAILURES', 3, 0, 1000),
    },
  };
}

/** Redis when one is named (`REDIS_URL`, or the original `REDIS_HOST`/`REDIS_PORT`/`REDIS_PASSWORD`), else PostgreSQL. */
function queueConfig(env: Env): QueueConfig {
  const redisUrl = url(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const host = text(env, 'REDIS_HOST');
  const backend = text(env, 'QUEUE_BACKEND') ?? (redisUrl || host ? 'redis' : 'postgres');
  if (backend === 'postgres') return { backend, source: "BullMQ's PostgreSQL backend in the app's database" };
  if (backend !== 'redis') fail('QUEUE_BACKEND', `must be 'redis' or 'postgres', got '${backend}'`);
  if (redisUrl) return { backend, connection: { url: redisUrl }, source: `Redis at ${redact(redisUrl)}` };
  const connection: RedisConnectionOptions = {
    host: host ?? '127.0.0.1',
    port: integer(env, 'REDIS_PORT', 6379, 1, 65535),
  };
  const password = text(env, 'REDIS_PASSWORD');
  if (password) connection.password = password;
  return { backend, connection, source: `Redis at ${connection.host}:${connection.port}` };
}

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max)
    fail(name, `must be an integer from ${min} to ${max}, got '${raw}'`);
  return value;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let protocol: string;
  try {
    protocol = new URL(raw).protocol;
  } catch {
    fail(name, 'is not a valid URL');
  }
  if (!protocols.includes(protocol)) fail(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  return raw;
}

function uuid(env: Env, name: string): string | undefined {
  const raw = text(env, name);
  if (raw !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(raw)) {
    fail(name, `must be a UUID, got '${raw}'`);
  }
  return raw?.toLowerCase();
}

/** The URL without its password, for logs. */
export function redact(value: string): string {
  const parsed = new URL(value);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

function fail(name: string, problem: string): never {
  throw new Error(`Configuration: ${name} ${problem}.`);
}
