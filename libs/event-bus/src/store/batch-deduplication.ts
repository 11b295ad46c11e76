import { EventConflictError } from '../shared/errors.js';
import { differingFields } from '../events/event-equality.js';
import type { ValidatedEvent } from '../events/event-validator.js';

/**
 * One batch may carry the same id twice (a retried producer, a merged list). Identical repeats
 * are written once and share the stored result; a repeat with different content is a conflict
 * that rejects the whole batch, as it would across two calls.
 */
export interface DeduplicatedBatch<P> {
  /** The first occurrence of each id, in input order: what gets inserted. */
  unique: ValidatedEvent<P>[];
  /** For each input position, whether it is the first occurrence of its id. */
  firstOccurrence: boolean[];
}

export function deduplicateBatch<P>(events: readonly ValidatedEvent<P>[]): DeduplicatedBatch<P> {
  const firstById = new Map<string, ValidatedEvent<P>>();
  const unique: ValidatedEvent<P>[] = [];
  const firstOccurrence = events.map((candidate) => {
    const first = firstById.get(candidate.event.id);
    if (!first) {
      firstById.set(candidate.event.id, candidate);
      unique.push(candidate);
      return true;
    }
    // The first occurrence plays the stored event: the later one's timestamp counts only if it gave one.
    const fields = differingFields(first.event, candidate);
    if (fields.length > 0) throw new EventConflictError(candidate.event.id, fields);
    return false;
  });
  return { unique, firstOccurrence };
}
