import type { StoredEvent } from '../../events/domain-event.js';

/** An unfinished event (`pending` or `processing`) as lost-job recovery sees it. */
export interface UnfinishedEvent {
  id: string;
  sequenceNumber: number;
  status: 'pending' | 'processing';
  jobId: string | null;
  /** Older than the age asked for. */
  stale: boolean;
}

/** A handler delivery a handler job still owns (`retrying`). */
export interface RetryingDelivery {
  eventId: string;
  handler: string;
  attempts: number;
  run: number;
  jobId: string | null;
}

/**
 * The reads of lost-job recovery: pages of the unfinished events (whatever their job id) and what it
 * needs to give back what nothing drives any more. No index filters on status, so the walk keeps its
 * cursor near the newest events (transport/bullmq/recovery/unfinished-event-walk.ts).
 */
export interface UnfinishedEvents {
  /** The newest sequence number, 0 when the store is empty. */
  lastSequence(): Promise<number>;
  /** Up to `limit` unfinished events after `afterSequence`, oldest first; `stale`: older than `staleAfterMs` (0: all are). */
  unfinishedAfter(afterSequence: number, limit: number, staleAfterMs: number): Promise<UnfinishedEvent[]>;
  /** The unfinished ones among these events, oldest first. */
  unfinishedByIds(ids: readonly string[], staleAfterMs: number): Promise<UnfinishedEvent[]>;
  /** The unfinished ones among these events, whole, oldest first. */
  loadUnfinished(ids: readonly string[]): Promise<StoredEvent[]>;
  /** The ids of the unfinished ones among these events. */
  unfinishedAmong(ids: readonly string[]): Promise<string[]>;
  /** The `retrying` deliveries of these events. */
  retryingDeliveries(eventIds: readonly string[]): Promise<RetryingDelivery[]>;
}
