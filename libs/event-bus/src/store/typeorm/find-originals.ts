import type { EntityManager } from 'typeorm';
import { EventConflictError } from '../../shared/errors.js';
import type { StoredEvent } from '../../events/domain-event.js';
import { differingFields } from '../../events/event-equality.js';
import type { ValidatedEvent } from '../../events/event-validator.js';
import type { EventStoreRepository } from './event-store.repository.js';

/**
 * The stored originals of the events an INSERT skipped (`ON CONFLICT DO NOTHING`), fetched in one
 * query and compared: a different one is an `EventConflictError`. `unseen` are the skipped events
 * with no original this transaction can see (stored concurrently by a transaction its snapshot
 * does not show, or not inserted for another reason the caller knows, such as a version check).
 */
export async function findOriginals<P>(
  repository: EventStoreRepository,
  unique: readonly ValidatedEvent<P>[],
  inserted: ReadonlyMap<string, StoredEvent>,
  manager: EntityManager | undefined,
): Promise<{ originals: Map<string, StoredEvent>; unseen: ValidatedEvent<P>[] }> {
  const skipped = unique.filter(({ event }) => !inserted.has(event.id));
  const originals = new Map(
    (
      await repository.findByIds(
        skipped.map(({ event }) => event.id),
        manager,
      )
    ).map((event) => [event.id, event]),
  );
  const unseen: ValidatedEvent<P>[] = [];
  for (const candidate of skipped) {
    const original = originals.get(candidate.event.id);
    if (!original) {
      unseen.push(candidate);
      continue;
    }
    const fields = differingFields(original, candidate);
    if (fields.length > 0) throw new EventConflictError(candidate.event.id, fields);
  }
  return { originals, unseen };
}
