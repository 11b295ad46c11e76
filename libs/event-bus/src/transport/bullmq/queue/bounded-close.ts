/**
 * Closing what talks to the queue's server, within a deadline. Shutdown must not hang on a server
 * that does not answer: a graceful close (QUIT, replies awaited) never settles while Redis is frozen,
 * and BullMQ's `disconnect()` waits for an 'end' event that an ioredis client reconnecting to a dead
 * server never emits. Past the deadline the connections are dropped and a warning says what was
 * abandoned.
 */
import type { LoggerService } from '@nestjs/common';
import { RedisQueueBackend } from 'bullmq';
import type { IQueueBackend, Queue, RedisClient } from 'bullmq';
import { withDeadline } from '../../../shared/with-deadline.js';

/** A BullMQ queue or worker of either backend (the worker classes differ only in their type parameters). */
export interface QueueConnectionOwner {
  getBackend(): IQueueBackend;
  disconnect(): Promise<void>;
}

export interface BoundedClose {
  /** What is closed, as the warning names it: `The event queue "events"`. */
  what: string;
  /** The graceful close. */
  close(): Promise<void>;
  /** Drops the connections at once. */
  force(): Promise<void>;
  /** What a forced close gives up, for the warning. */
  abandoned: string;
}

/**
 * How long a forced close may take at least: ioredis ends a socket with a FIN and, when a frozen server
 * never answers it, destroys the socket after its `disconnectTimeout` (2 s by default).
 */
const FORCED_CLOSE_MIN_MS = 3000;

/**
 * `close()`, or — when it fails or does not settle within `timeoutMs` — `force()`, itself bounded.
 * Never rejects: at shutdown, a server that cannot be told goodbye is worth a warning, not an error.
 */
export async function closeWithin(target: BoundedClose, timeoutMs: number, logger: LoggerService): Promise<void> {
  let reason: string;
  try {
    await withDeadline(target.close(), timeoutMs, target.what);
    return;
  } catch (error) {
    reason = (error as Error).message;
  }
  logger.warn(
    `${target.what} did not close cleanly (${reason}); dropped its connections, abandoning ${target.abandoned}.`,
  );
  await forceWithin(target.force(), timeoutMs);
}

/** Waits, boundedly, for a forced close; it never rejects either. */
export async function forceWithin(forcing: Promise<void>, timeoutMs: number): Promise<void> {
  await withDeadline(forcing, Math.max(timeoutMs, FORCED_CLOSE_MIN_MS), 'A forced close').catch(() => undefined);
}

/** Closes a queue the bus (or its module) created, within `timeoutMs`. */
export function closeQueueWithin(queue: Queue, timeoutMs: number, logger: LoggerService): Promise<void> {
  return closeWithin(
    {
      what: `The event queue "${queue.name}"`,
      close: () => queue.close(),
      force: () => dropConnections(queue),
      abandoned: 'the commands it had sent',
    },
    timeoutMs,
    logger,
  );
}

/**
 * Drops the connections of a queue or worker at once and resolves when their sockets are closed. On
 * Redis: ioredis `disconnect()` on each client (no QUIT, no reconnect), which works whatever state the
 * client is in — unlike BullMQ's `disconnect()`, which waits for an 'end' that a client reconnecting
 * to a dead server never emits. Other backends: their `disconnect()`.
 */
export async function dropConnections(owner: QueueConnectionOwner): Promise<void> {
  const backend = owner.getBackend();
  if (!(backend instanceof RedisQueueBackend)) {
    await owner.disconnect();
    return;
  }
  const clients = await Promise.all([settledNow(backend.client), settledNow(backend.blockingClient)]);
  await Promise.all(clients.map((client) => (client ? disconnectRedis(client) : Promise.resolve())));
}

/** Disconnects one client; resolves once its socket is closed (at once if it has none). */
function disconnectRedis(client: RedisClient): Promise<void> {
  // Reconnecting, or not connected yet: no socket to wait for, and no 'end' would come.
  const hasSocket = !['end', 'wait', 'reconnecting'].includes(client.status);
  const ended = hasSocket ? new Promise<void>((resolve) => client.once('end', () => resolve())) : undefined;
  client.disconnect();
  return ended ?? Promise.resolve();
}

/**
 * Whether the Redis server behind a queue or worker answers a command within `timeoutMs`; true on
 * other backends (nothing cheap to ask: their close is bounded by `closeWithin` anyway).
 */
export async function queueAnswers(owner: QueueConnectionOwner, timeoutMs: number): Promise<boolean> {
  const backend = owner.getBackend();
  if (!(backend instanceof RedisQueueBackend)) return true;
  try {
    const client = await withDeadline(backend.client, timeoutMs, 'Redis');
    if (client.status !== 'ready') return false;
    await withDeadline(client.info(), timeoutMs, 'Redis');
    return true;
  } catch {
    return false;
  }
}

/**
 * The value of a promise that has already been fulfilled, without waiting for one that has not (the
 * client of a connection still being established: BullMQ's close disconnects that one itself).
 */
async function settledNow<T>(promise: Promise<T> | undefined): Promise<T | undefined> {
  if (!promise) return undefined;
  const pending = Symbol('pending');
  try {
    // A fulfilled promise's reaction is queued before the marker's: it wins the race.
    const value = await Promise.race([promise, Promise.resolve(pending)]);
    return value === pending ? undefined : value;
  } catch {
    return undefined;
  }
}

/**
 * Cuts short a worker's wait for its next job (BullMQ's close does so by disconnecting the blocking
 * connection), without waiting for the connection's end: never emitted while ioredis is reconnecting
 * to a dead server.
 */
export function interruptFetch(worker: QueueConnectionOwner): void {
  worker
    .getBackend()
    .disconnectBlocking(false)
    .catch(() => undefined);
}
