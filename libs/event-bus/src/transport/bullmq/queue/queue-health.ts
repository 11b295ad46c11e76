/**
 * The queue's side of the bus's health: its server answers within the deadline, and on Redis it keeps
 * every key (`maxmemory-policy noeviction`: any other policy lets Redis delete queued jobs under
 * memory pressure). Read with INFO, which managed Redis services allow where they disable CONFIG.
 */
import type { Queue } from 'bullmq';
import type { HealthCheckResult } from '../../../core/ports/transport-health.js';
import { withDeadline } from '../../../shared/with-deadline.js';
import type { QueueBackendKind } from './queue-backend.js';
import { parseRedisInfo, redisClientOf } from './redis-server-info.js';

/** The job states `/health` shows: what waits, runs, waits for a retry, and the dead letters. */
const COUNTED_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * Never rejects: a server that refuses, or does not answer within `timeoutMs` (the whole probe's
 * deadline), is an unhealthy result.
 */
export async function probeQueueServer(
  queue: Queue,
  kind: QueueBackendKind,
  timeoutMs: number,
): Promise<HealthCheckResult> {
  const server = kind === 'redis' ? 'Redis' : "BullMQ's PostgreSQL backend";
  let details: Record<string, unknown> = { backend: kind, queue: queue.name };
  try {
    // One deadline for the whole probe; what answers late is dropped.
    const seen = await withDeadline(
      (async () => ({
        ...(kind === 'redis' ? { maxmemoryPolicy: (await evictionPolicy(queue)) ?? 'unknown' } : {}),
        jobs: await queue.getJobCounts(...COUNTED_STATES),
      }))(),
      timeoutMs,
      server,
    );
    details = { ...details, ...seen };
  } catch (error) {
    return { healthy: false, reason: `${server} is unreachable: ${(error as Error).message}`, details };
  }
  const policy = details.maxmemoryPolicy;
  if (kind === 'redis' && policy !== 'noeviction' && policy !== 'unknown') {
    return {
      healthy: false,
      reason:
        `Redis maxmemory-policy is "${String(policy)}", not "noeviction": under memory pressure Redis may ` +
        'delete queued event jobs',
      details,
    };
  }
  return { healthy: true, details };
}

/** The server's `maxmemory-policy`, or undefined when INFO does not say. */
async function evictionPolicy(queue: Queue): Promise<string | undefined> {
  const client = await redisClientOf(queue);
  if (!client) return undefined;
  return parseRedisInfo(await client.info()).maxmemoryPolicy;
}
