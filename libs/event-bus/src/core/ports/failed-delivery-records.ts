import type { StoredEvent } from '../../events/domain-event.js';

/** One handler's delivery of one event that exhausted its retry policy. */
export interface FailedDelivery {
  eventId: string;
  handler: string;
  attempts: number;
  lastError: string;
  failedAt: string;
}

/** Which failed deliveries `getFailedDeliveries` lists and `retryFailed` re-drives; every field given must match. */
export interface FailedDeliveryFilter {
  eventId?: string;
  /** The handler's name, exactly. */
  handler?: string;
  tenantId?: string;
  /** The event's type, exactly (no pattern). */
  eventType?: string;
  /** The event's `metadata.workflowId`. */
  workflowId?: string;
}

/** Where a page of failed deliveries ended: its last item (any object with these fields). */
export type FailedDeliveryCursor = Pick<FailedDelivery, 'failedAt' | 'eventId' | 'handler'>;

/** `getFailedDeliveries`' filter with keyset paging, in the list's order (oldest failure first). */
export interface FailedDeliveryQuery extends FailedDeliveryFilter {
  /** At most this many (1 to 10 000). @default all */
  limit?: number;
  /**
   * Only those after this one: pass the last item of the previous page. A page never skips a
   * delivery that stayed failed; one re-driven and failed again meanwhile comes again, later.
   */
  after?: FailedDeliveryCursor;
}

/** A failed delivery claimed for a re-drive. */
export interface FailedDeliveryClaim {
  /** The event, whole (a handler job carries it). */
  event: StoredEvent;
  handler: string;
  /** The run this re-drive starts (the failed one's + 1). */
  run: number;
  /** The job that owned the failed run, if any: the queue's dead letter the re-drive replaces. */
  replacedJobId: string | null;
}

/** What the transport does with one claimed batch, inside the claim's transaction. */
export interface RedriveBatch {
  /** The job id of each claim's new run, in claim order: recorded before `enqueue` runs. */
  jobIds: readonly string[];
  /** Hands the new jobs to the queue; a rejection rolls the batch back. */
  enqueue(): Promise<unknown>;
}

/** The dead letters: handler deliveries that exhausted their policy, and their re-drive. */
export interface FailedDeliveryRecords {
  /** Failed deliveries, oldest failure first (then by event id, handler), paged; bounded by the store's deadline. */
  listFailed(filter?: FailedDeliveryQuery): Promise<FailedDelivery[]>;

  /**
   * Re-drives the matching failed deliveries in batches, each in one transaction: claims them (rows
   * other callers hold are skipped), asks `plan` for the new runs' job ids and enqueue, marks each
   * record `retrying` under its new run and job and its event `processing`, enqueues, commits; then
   * `afterCommit` gets the replaced runs' job ids. Deliveries failing again meanwhile are left for
   * the next call. Checks first that the store answers; an outage is a `StoreUnavailableError`.
   * Resolves to how many deliveries were re-driven.
   */
  redriveFailed(
    filter: FailedDeliveryFilter,
    plan: (claims: readonly FailedDeliveryClaim[]) => RedriveBatch,
    afterCommit: (replacedJobIds: readonly string[]) => Promise<void>,
  ): Promise<number>;
}
