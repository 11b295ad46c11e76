/**
 * What the bus needs to know about the Redis server behind a queue, read with INFO (which managed
 * Redis services allow even where they disable CONFIG): its `run_id`, which changes on every restart,
 * and its `maxmemory-policy`, which must be `noeviction` or Redis may silently drop queued jobs.
 */
import { RedisQueueBackend } from 'bullmq';
import type { Queue, RedisClient } from 'bullmq';

export interface RedisServerInfo {
  runId?: string;
  maxmemoryPolicy?: string;
}

export function parseRedisInfo(text: string): RedisServerInfo {
  const info: RedisServerInfo = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('run_id:')) info.runId = line.slice('run_id:'.length).trim();
    else if (line.startsWith('maxmemory_policy:')) info.maxmemoryPolicy = line.slice('maxmemory_policy:'.length).trim();
  }
  return info;
}

/** The queue's own Redis client, or undefined on another backend. */
export async function redisClientOf(queue: Queue): Promise<RedisClient | undefined> {
  const backend: unknown = queue.getBackend();
  return backend instanceof RedisQueueBackend ? backend.client : undefined;
}
