/** Redis connection options from `REDIS_URL`, and the sweep that removes a run's keys. */
import { Redis } from 'ioredis';

/** The shape BullMQ and ioredis take. */
export interface BenchRedisConnection {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
}

export function redisConnectionFromUrl(redisUrl: string): BenchRedisConnection {
  const url = new URL(redisUrl);
  const connection: BenchRedisConnection = { host: url.hostname || '127.0.0.1', port: Number(url.port || 6379) };
  if (url.username) connection.username = decodeURIComponent(url.username);
  if (url.password) connection.password = decodeURIComponent(url.password);
  const db = url.pathname.replace(/^\//, '');
  if (db) connection.db = Number(db);
  return connection;
}

/**
 * Deletes every key under the run's prefix. Each queue is obliterated by BullMQ first (see
 * `trackQueue`); this sweep catches what no Queue object of this process knows about, e.g.
 * keys left by a child process that was killed.
 */
export async function sweepRedisPrefix(connection: BenchRedisConnection, prefix: string): Promise<void> {
  const client = new Redis({ ...connection, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // reported by the awaited commands below
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
