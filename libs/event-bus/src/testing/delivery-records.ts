import type { FailedDelivery, FailedDeliveryFilter } from '../core/event-bus.js';
import { normalizeUuid } from '../events/uuid.js';

/** One handler's delivery of one event that did not succeed on its first try (as `event_handler_deliveries` holds it). */
export interface DeliveryRecord {
  readonly eventId: string;
  readonly tenantId: string;
  readonly handler: string;
  status: 'retrying' | 'failed' | 'succeeded';
  /** Attempts made in the current run. */
  attempts: number;
  lastError: string | null;
  /** The error of the last failed attempt, for tests that look at it. */
  error: Error | null;
  failedAt: Date | null;
  /** The re-drive this record belongs to (0 for the first delivery). */
  run: number;
}

/** A failed delivery as the test harness reports it: `getFailedDeliveries`' fields and the error itself. */
export interface RecordedFailure extends FailedDelivery {
  error: Error;
}

/**
 * The in-memory bus's per-handler outcomes: written when a handler fails or is retried, never on
 * the happy path, and what decides whether an event ends `processed` or `failed`.
 */
export class DeliveryRecords {
  private readonly records = new Map<string, DeliveryRecord>();

  /** The record of this delivery, opened (`retrying`, run 0) if it has none yet. */
  open(eventId: string, tenantId: string, handler: string): DeliveryRecord {
    const key = keyOf(eventId, handler);
    let record = this.records.get(key);
    if (!record) {
      record = {
        eventId,
        tenantId,
        handler,
        status: 'retrying',
        attempts: 0,
        lastError: null,
        error: null,
        failedAt: null,
        run: 0,
      };
      this.records.set(key, record);
    }
    return record;
  }

  /** Whether the event has a delivery still retrying (it is not finished), or one that failed. */
  state(eventId: string): { retrying: boolean; failed: boolean } {
    let retrying = false;
    let failed = false;
    for (const record of this.records.values()) {
      if (record.eventId !== eventId) continue;
      retrying ||= record.status === 'retrying';
      failed ||= record.status === 'failed';
    }
    return { retrying, failed };
  }

  /** The failed deliveries matching a checked filter, oldest failure first (as the TypeORM query orders them). */
  failed(filter: FailedDeliveryFilter = {}): DeliveryRecord[] {
    const eventId = filter.eventId === undefined ? undefined : normalizeUuid(filter.eventId);
    const tenantId = filter.tenantId === undefined ? undefined : normalizeUuid(filter.tenantId);
    return [...this.records.values()]
      .filter(
        (record) =>
          record.status === 'failed' &&
          (eventId === undefined || record.eventId === eventId) &&
          (tenantId === undefined || record.tenantId === tenantId) &&
          (filter.handler === undefined || record.handler === filter.handler),
      )
      .sort(
        (a, b) =>
          a.failedAt!.getTime() - b.failedAt!.getTime() ||
          compare(a.eventId, b.eventId) ||
          compare(a.handler, b.handler),
      );
  }

  clear(): void {
    this.records.clear();
  }
}

export function toFailedDelivery(record: DeliveryRecord): RecordedFailure {
  return {
    eventId: record.eventId,
    handler: record.handler,
    attempts: record.attempts,
    lastError: record.lastError ?? '',
    failedAt: record.failedAt!.toISOString(),
    error: record.error!,
  };
}

function keyOf(eventId: string, handler: string): string {
  return `${eventId}\u0000${handler}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
