import { randomBytes } from 'node:crypto';

/** The Redis of the test run, from `REDIS_URL` (default redis://127.0.0.1:6379). */
export interface TestRedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
}

export function testRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** Connection options in the shape BullMQ and ioredis take. */
export function testRedisConnection(): TestRedisConnection {
  const url = new URL(testRedisUrl());
  const connection: TestRedisConnection = { host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) };
  if (url.username) connection.username = decodeURIComponent(url.username);
  if (url.password) connection.password = decodeURIComponent(url.password);
  const db = url.pathname.replace(/^\//, '');
  if (db) connection.db = Number(db);
  return connection;
}

/**
 * A BullMQ key prefix of its own for one test file, so files running in parallel never see
 * each other's queues. No ':' (it separates Redis key parts) and no braces.
 */
export function uniquePrefix(suite: string): string {
  return `test-${slug(suite, 40)}-${randomBytes(4).toString('hex')}`;
}

/** Lower-case letters, digits and `_` only, at most `max` characters. */
export function slug(text: string, max: number): string {
  const cleaned = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return (cleaned || 'suite').slice(0, max);
}
