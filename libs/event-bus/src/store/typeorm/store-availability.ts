/**
 * The one place where PostgreSQL being unreachable becomes a `StoreUnavailableError`: a refused or
 * dropped connection, or no answer within the store's deadline. A statement PostgreSQL answered
 * with an error (a unique violation the store handles, a bug) is not an outage and passes unchanged.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { EventBusError, StoreUnavailableError } from '../../shared/errors.js';
import { DeadlineExceededError, withDeadline } from '../../shared/with-deadline.js';

/** How long one call waits for PostgreSQL by default, in ms. */
export const DEFAULT_STORE_TIMEOUT_MS = 5000;

/** Node's socket errors of a server that cannot be reached or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that cannot serve: class 08 (connection exception), shutting down or
 * starting (57P01–57P03), out of connection slots (53300).
 */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code);
}

/** What pg says, without a code, when a connection ended under a query or cannot be used. */
const PG_CONNECTION_MESSAGES =
  /Connection terminated|not queryable|timeout exceeded when trying to connect|Query read timeout/i;

/** Whether `error` (or the driver error TypeORM wrapped) says PostgreSQL could not be reached or stopped answering. */
export function isStoreUnreachable(error: unknown): boolean {
  if (error instanceof DeadlineExceededError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, driverError, errors } = error as {
    code?: unknown;
    message?: unknown;
    driverError?: unknown;
    errors?: unknown;
  };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || isUnavailableSqlState(code))) return true;
  if (typeof message === 'string' && PG_CONNECTION_MESSAGES.test(message)) return true;
  // Node reports a failed connect to every address of a host name as an AggregateError.
  if (Array.isArray(errors) && errors.some(isStoreUnreachable)) return true;
  return driverError !== undefined && driverError !== error && isStoreUnreachable(driverError);
}

/** `error` as a `StoreUnavailableError` when PostgreSQL was unreachable; any other error unchanged. */
export function asStoreError(error: unknown): unknown {
  if (error instanceof EventBusError || !isStoreUnreachable(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(
    `The event store is unavailable (${reason}); the operation did not complete. Retry once PostgreSQL answers.`,
    { cause: error },
  );
}

/**
 * Awaits `work` for at most `timeoutMs`, mapping an outage to `StoreUnavailableError`. The work is
 * not cancelled: use `callStore` where the connection is the store's own, so it can be closed.
 */
export async function withinStoreDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  try {
    return await withDeadline(work, timeoutMs, 'PostgreSQL');
  } catch (error) {
    throw asStoreError(error);
  }
}

/**
 * Runs `work` within the deadline: on the caller's manager (their transaction, left to them), or
 * on a pooled connection of its own. A server that stopped answering (frozen, or a network path
 * that drops packets) would keep that connection checked out for as long as it stays silent, and a
 * few such calls would exhaust the pool; so past the deadline the connection is closed, which pg
 * does by destroying the socket when a query is in flight. The work then fails and the pool
 * discards the client and opens a fresh one for the next call.
 */
export async function callStore<T>(
  dataSource: DataSource,
  manager: EntityManager | undefined,
  work: (manager: EntityManager) => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  if (manager)
    return withinStoreDeadline(
      Promise.resolve().then(() => work(manager)),
      timeoutMs,
    );
  const runner = dataSource.createQueryRunner();
  let settled = false;
  const running = Promise.resolve()
    .then(() => work(runner.manager))
    .finally(() => {
      settled = true;
      return runner.release();
    });
  try {
    return await withDeadline(running, timeoutMs, 'PostgreSQL');
  } catch (error) {
    if (error instanceof DeadlineExceededError && !settled) {
      // connect() hands back the pooled pg client (once it has one, if it is still waiting for it).
      void (runner.connect() as Promise<{ end(): Promise<void> }>)
        .then((client) => client.end())
        .catch(() => undefined);
    }
    throw asStoreError(error);
  }
}

/** Resolves once PostgreSQL answers a trivial query; `StoreUnavailableError` when it does not within `timeoutMs`. */
export async function checkStoreAnswers(dataSource: DataSource, timeoutMs: number): Promise<void> {
  await callStore(dataSource, undefined, (manager) => manager.query('SELECT 1'), timeoutMs);
}
