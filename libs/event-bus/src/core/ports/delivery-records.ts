/**
 * Ports of the per-event bookkeeping a transport keeps while it delivers: the job id of each event,
 * the event statuses of the happy path, and the per-handler delivery records of events whose
 * handlers did not all succeed at once. The store side implements them (store/typeorm); the
 * transport never touches a table itself.
 */
import type { EventStatus } from '../../events/domain-event.js';

export const HANDLER_DELIVERY_STATUSES = ['retrying', 'succeeded', 'failed'] as const;
export type HandlerDeliveryStatus = (typeof HANDLER_DELIVERY_STATUSES)[number];

/** One handler's delivery of one event. */
export interface DeliveryRecord {
  eventId: string;
  handler: string;
  status: HandlerDeliveryStatus;
  /** Attempts made in the current run. */
  attempts: number;
  lastError: string | null;
  failedAt: Date | null;
  /** 0 for the first delivery, +1 per re-drive. */
  run: number;
  /** The job that owns the current run. */
  jobId: string | null;
}

/** A record as a processor writes it; the failure time is set by the store when `status` is `failed`. */
export interface DeliveryRecordWrite {
  eventId: string;
  handler: string;
  status: HandlerDeliveryStatus;
  attempts: number;
  lastError: string | null;
  jobId: string | null;
}

/** An event's status and its handler records. */
export interface EventDeliveryState {
  status: EventStatus;
  records: DeliveryRecord[];
}

/** The job id of each dispatched event, recorded after `publish` resolved (DESIGN.md 6.4). */
export interface JobIdRecords {
  /**
   * Records each event's job id (`ids` and `jobIds` in the same order) where none is recorded yet.
   * Bounded by the store's deadline; rejects when the write did not happen.
   */
  recordJobIds(ids: readonly string[], jobIds: readonly string[]): Promise<void>;
}

/** The status writes of the happy path, one statement per batch of events. */
export interface EventStatuses {
  /**
   * `pending` → `processing`, recording each event's job id where it is missing. Resolves to the ids
   * that moved (a row that was not `pending` is a re-delivery).
   */
  markProcessing(ids: readonly string[], jobIds: readonly string[]): Promise<ReadonlySet<string>>;
  /** `pending`/`processing` → `processed`, for events whose handlers all succeeded. */
  markProcessed(ids: readonly string[], jobIds: readonly string[]): Promise<void>;
}

/** The per-handler delivery records, and the event status they decide. */
export interface DeliveryRecords {
  /** The event's status and its handler records, or `null` when the event is not stored. */
  eventState(eventId: string): Promise<EventDeliveryState | null>;

  /**
   * The records of an event whose handlers did not all succeed: one per handler it ran. A record
   * that exists already belongs to a handler job and is left alone.
   */
  insertMissing(records: readonly DeliveryRecordWrite[]): Promise<void>;

  /**
   * The outcome of one attempt of a handler job; only the job owning the record's current run may
   * change it. Resolves to the record's status before the write (`null`: there was none), or
   * `undefined` when it was not this job's to write.
   */
  saveAttempt(record: DeliveryRecordWrite): Promise<HandlerDeliveryStatus | null | undefined>;

  /**
   * Marks `failed` the `retrying` record this job owns, keeping its last error. Resolves false when
   * the record is not in that state (the job already settled it and runs again).
   */
  settleCarriedFailure(record: { eventId: string; handler: string; attempts: number; jobId: string }): Promise<boolean>;

  /** A `failed` event is unfinished (`processing`) again: one of its deliveries was retried outside the library. */
  reopenEvent(eventId: string): Promise<void>;

  /**
   * Finishes the event once none of its deliveries is `retrying`: `failed` when one failed,
   * `processed` otherwise; records the event job's id when it is missing.
   */
  finalizeEvent(eventId: string, eventJobId: string): Promise<void>;
}
