import type { RetryingDelivery, UnfinishedEvent, UnfinishedEvents } from '../../core/ports/unfinished-events.js';
import type { StoredEvent } from '../../events/domain-event.js';
import { toStoredEvent, type EventRow, type InMemoryTables } from './in-memory-tables.js';

type UnfinishedRow = EventRow & { status: 'pending' | 'processing' };

/** The reads of lost-job recovery over the in-memory events (see the port), oldest first. */
export class InMemoryUnfinishedEvents implements UnfinishedEvents {
  constructor(private readonly tables: InMemoryTables) {}

  async lastSequence(): Promise<number> {
    return this.tables.events.at(-1)?.sequenceNumber ?? 0;
  }

  async unfinishedAfter(afterSequence: number, limit: number, staleAfterMs: number): Promise<UnfinishedEvent[]> {
    return this.tables.events
      .filter((row): row is UnfinishedRow => isUnfinished(row) && row.sequenceNumber > afterSequence)
      .slice(0, limit)
      .map((row) => toUnfinished(row, staleAfterMs));
  }

  async unfinishedByIds(ids: readonly string[], staleAfterMs: number): Promise<UnfinishedEvent[]> {
    return this.among(ids).map((row) => toUnfinished(row, staleAfterMs));
  }

  async loadUnfinished(ids: readonly string[]): Promise<StoredEvent[]> {
    return this.among(ids).map((row) => toStoredEvent(row));
  }

  async unfinishedAmong(ids: readonly string[]): Promise<string[]> {
    return this.among(ids).map((row) => row.id);
  }

  async retryingDeliveries(eventIds: readonly string[]): Promise<RetryingDelivery[]> {
    return eventIds.flatMap((eventId) =>
      this.tables
        .deliveriesOf(eventId)
        .filter((record) => record.status === 'retrying')
        .map(({ eventId: id, handler, attempts, run, jobId }) => ({ eventId: id, handler, attempts, run, jobId })),
    );
  }

  /** The unfinished ones among these events, in sequence order. */
  private among(ids: readonly string[]): UnfinishedRow[] {
    const wanted = new Set(ids);
    return this.tables.events.filter((row): row is UnfinishedRow => wanted.has(row.id) && isUnfinished(row));
  }
}

function isUnfinished(row: EventRow): boolean {
  return row.status === 'pending' || row.status === 'processing';
}

function toUnfinished(row: UnfinishedRow, staleAfterMs: number): UnfinishedEvent {
  const stale = staleAfterMs === 0 || Date.parse(row.createdAt) < Date.now() - staleAfterMs;
  return { id: row.id, sequenceNumber: row.sequenceNumber, status: row.status, jobId: row.jobId, stale };
}
