import type { EntityManager } from 'typeorm';
import { ConcurrentAppendError } from '../../shared/errors.js';
import { isVersionViolation, violatedStream, type EventStoreRepository } from './event-store.repository.js';

/**
 * How often an append without `expectedVersion` is tried when concurrent appends to the same
 * workflow keep taking the version it numbered. Each lost race means another append committed (the
 * loser waited for it), so N writers racing on one stream need at most N tries each; the bound only
 * stops a pathological stream from holding a publish forever.
 */
export const MAX_APPEND_ATTEMPTS = 32;

/**
 * Runs `attempt` (one append, numbered inside its INSERT) again while it loses the race for a
 * workflow's version to a concurrent append: the retry reads the winner's rows and takes the
 * versions after them, so all concurrent appends succeed, each with its own versions. Inside a
 * caller's transaction the attempt must run in a SAVEPOINT of its own (`repository.transaction`),
 * so a lost race undoes only the attempt. Under REPEATABLE READ or SERIALIZABLE the caller's snapshot
 * cannot see the winner, so a retry would lose again: that is a `ConcurrentAppendError` at once.
 */
export async function retryLostVersionRaces<T>(
  repository: EventStoreRepository,
  manager: EntityManager | undefined,
  attempt: () => Promise<T>,
): Promise<T> {
  for (let attempts = 1; ; attempts += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (!isVersionViolation(error)) throw error;
      const stream = violatedStream(error);
      const where = stream ? `workflow "${stream.workflowId}" of tenant ${stream.tenantId}` : 'a workflow';
      if (manager) {
        const level = await repository.isolationLevel(manager);
        if (level !== 'read committed' && level !== 'read uncommitted') {
          throw new ConcurrentAppendError(
            `A concurrent append took the next version of ${where} first, and this transaction (${level}) ` +
              'cannot see it to take the one after. Nothing of this append was stored: roll the transaction ' +
              'back and run it again (or publish from a READ COMMITTED transaction, where the append retries itself).',
            stream?.workflowId,
            stream?.tenantId,
            { cause: error },
          );
        }
      }
      if (attempts >= MAX_APPEND_ATTEMPTS) {
        throw new ConcurrentAppendError(
          `Concurrent appends took the next version of ${where} first ${attempts} times in a row. ` +
            'Nothing of this append was stored; publish it again.',
          stream?.workflowId,
          stream?.tenantId,
          { cause: error },
        );
      }
    }
  }
}
