/**
 * Whether PostgreSQL and Redis answer at a URL: each probe resolves to `undefined` when the service
 * answered, or to the reason it did not. Bounded by a timeout, so a silent host cannot hang the run.
 */
import { createConnection } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';

export async function probePostgres(url: string, timeoutMs = 3000): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return describeError(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates the database of `url` on its server when it is missing (a local server without `test`). */
export async function ensurePostgresDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

export async function probeRedis(url: string, timeoutMs = 2000): Promise<string | undefined> {
  // A plain TCP check first: a refused connection leaves ioredis's connect timer running for its
  // whole timeout, which would hold the test process open at the end of the run.
  const { hostname, port } = new URL(url);
  const unreachable = await tcpProblem(hostname || '127.0.0.1', Number(port || 6379), timeoutMs);
  if (unreachable) return unreachable;
  // No reconnects and no offline queue: one attempt that fails fast.
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return describeError(error);
  } finally {
    redis.disconnect();
  }
}

function tcpProblem(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: timeoutMs });
    const done = (problem?: string): void => {
      socket.destroy();
      resolve(problem);
    };
    socket.once('connect', () => done());
    socket.once('timeout', () => done(`no answer from ${host}:${port} within ${timeoutMs} ms`));
    socket.once('error', (error) => done(describeError(error)));
  });
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length) return describeError(error.errors[0]);
  if (error instanceof Error) return error.message || ('code' in error ? String(error.code) : error.name);
  return String(error);
}
