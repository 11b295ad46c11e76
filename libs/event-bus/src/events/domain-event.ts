/** Metadata carried alongside an event. `jobId` is set by the bus, never by the caller. */
export interface EventMetadata {
  /** The BullMQ job id the event was enqueued under (set by the bus). */
  jobId?: string;
  /** Groups the events of one workflow execution; indexed for `getEventsByWorkflowId`. */
  workflowId?: string;
  [key: string]: unknown;
}

/** A domain event as published. */
export interface DomainEvent<P = unknown> {
  /** UUID; generated when omitted. Doubles as the idempotency key. */
  id: string;
  /** Dot-separated segments, e.g. `workflow.node.triggered`. */
  type: string;
  /** ISO-8601; now when omitted. */
  timestamp: string;
  /** UUID of the tenant the event belongs to. */
  tenantId: string;
  /** Any JSON value (`null` allowed). */
  payload: P;
  metadata?: EventMetadata;
}

/** What callers pass to `publish`: `id` and `timestamp` may be left out, `timestamp` may be a `Date`. */
export type NewDomainEvent<P = unknown> = Omit<DomainEvent<P>, 'id' | 'timestamp'> & {
  id?: string;
  timestamp?: string | Date;
};

export const EVENT_STATUSES = ['pending', 'processing', 'processed', 'failed'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** An event as stored in the `event_store` table. */
export interface StoredEvent<P = unknown> extends DomainEvent<P> {
  /** Position in the store: unique, increasing, a safe-integer number. */
  sequenceNumber: number;
  /**
   * The event's 1-based, gapless position in its workflow's stream (`tenantId` + `metadata.workflowId`);
   * `null` for an event without a workflow. Unique per stream: see `publish(event, { expectedVersion })`.
   */
  version: number | null;
  status: EventStatus;
  /** ISO-8601 time the row was inserted. */
  createdAt: string;
}
