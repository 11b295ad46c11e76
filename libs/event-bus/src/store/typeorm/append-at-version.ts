import type { EntityManager } from 'typeorm';
import { EventBusError, EventConcurrencyError } from '../../shared/errors.js';
import type { StoredEvent } from '../../events/domain-event.js';
import type { ValidatedEvent } from '../../events/event-validator.js';
import { deduplicateBatch } from '../batch-deduplication.js';
import type { AppendedEvent } from '../event-store.js';
import type { WorkflowStream } from '../expected-version.js';
import { isStoredIdViolation, isVersionViolation, type EventStoreRepository } from './event-store.repository.js';
import { findOriginals } from './find-originals.js';

/**
 * An append with `expectedVersion`: one stream's events at `expectedVersion + 1, …`, or an
 * `EventConcurrencyError` and nothing stored when the stream is elsewhere. The unique index decides
 * between writers that race from the same version: the loser's INSERT waits for the winner's commit
 * and fails, and gets the winner's version as `actualVersion`. Events stored already are an
 * idempotent re-publish: when every event of the call is, it resolves to the originals whatever the
 * stream's version (a retried publish whose answer was lost succeeds), and they never count as new.
 */
export async function appendAtVersion<P>(
  repository: EventStoreRepository,
  prepared: ValidatedEvent<P>[],
  stream: WorkflowStream,
  expectedVersion: number,
  callerManager: EntityManager | undefined,
): Promise<AppendedEvent<P>[]> {
  const { unique, firstOccurrence } = deduplicateBatch(prepared);
  const conflict = (actualVersion: number) =>
    new EventConcurrencyError(stream.workflowId, stream.tenantId, expectedVersion, actualVersion);
  const appended = (inserted: ReadonlyMap<string, StoredEvent>, originals?: ReadonlyMap<string, StoredEvent>) =>
    prepared.map(({ event }, index) => ({
      event: (inserted.get(event.id) ?? originals?.get(event.id)) as StoredEvent<P>,
      inserted: inserted.has(event.id) && firstOccurrence[index],
    }));

  try {
    if (!callerManager) {
      // The common case in one statement, no transaction: it inserts all or nothing by itself. A stored
      // id fails it as a whole, and a stream elsewhere inserts nothing (which may also be a re-publish
      // of stored events: the version check comes first); both take the transactional path below,
      // which compares the originals.
      try {
        const { inserted } = await repository.insertAtVersion(unique, stream, expectedVersion, undefined, {
          existing: 'reject',
        });
        if (inserted.length > 0) return appended(new Map(inserted.map((event) => [event.id, event])));
      } catch (error) {
        if (!isStoredIdViolation(error)) throw error;
      }
    }
    return await repository.transaction(callerManager, async (manager) => {
      const result = await repository.insertAtVersion(unique, stream, expectedVersion, manager, { existing: 'skip' });
      const inserted = new Map(result.inserted.map((event) => [event.id, event]));
      const { originals, unseen } = await findOriginals(repository, unique, inserted, manager);
      if (unseen.length > 0) {
        if (result.currentVersion !== expectedVersion) throw conflict(result.currentVersion);
        // Only possible under REPEATABLE READ or stricter: the original committed after this transaction's snapshot.
        throw new EventBusError(
          `Event ${unseen[0].event.id} was stored concurrently by a transaction this one cannot see; retry the write`,
        );
      }
      return appended(inserted, originals);
    });
  } catch (error) {
    if (!isVersionViolation(error)) throw error;
    throw conflict(await actualVersionAfterLostRace(repository, stream, expectedVersion, callerManager));
  }
}

/**
 * The version of a stream whose next version a concurrent writer took first (and committed: the
 * loser's INSERT waited for it). A READ COMMITTED caller's transaction sees it; a REPEATABLE READ one
 * still shows its snapshot's `expectedVersion`, so the committed version is read outside it.
 */
async function actualVersionAfterLostRace(
  repository: EventStoreRepository,
  stream: WorkflowStream,
  expectedVersion: number,
  manager: EntityManager | undefined,
): Promise<number> {
  const seen = await repository.workflowVersion(stream, manager);
  if (seen !== expectedVersion || !manager) return seen;
  return repository.workflowVersion(stream);
}
