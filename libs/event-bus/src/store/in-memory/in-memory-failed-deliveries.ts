import type {
  FailedDelivery,
  FailedDeliveryClaim,
  FailedDeliveryFilter,
  FailedDeliveryQuery,
  FailedDeliveryRecords,
  RedriveBatch,
} from '../../core/ports/failed-delivery-records.js';
import type { EventStatus } from '../../events/domain-event.js';
import { normalizeUuid } from '../../events/uuid.js';
import { toStoredEvent, type DeliveryRow, type EventRow, type InMemoryTables } from './in-memory-tables.js';

/** Re-drives are claimed and enqueued in batches of this many records, as the TypeORM ledger does. */
const REDRIVE_BATCH = 500;

/** A failed record as `failedNow` lists it: the delivery and its event's tenant. */
export type FailedRecord = Readonly<DeliveryRow> & { readonly failedAt: Date };

/**
 * The dead letters in memory (see the port), ordered as the TypeORM query orders them. The filter
 * was checked by the bus before it got here; ids are compared in their stored (lower-case) form.
 */
export class InMemoryFailedDeliveries implements FailedDeliveryRecords {
  constructor(private readonly tables: InMemoryTables) {}

  /** The failed records matching `filter`, oldest failure first, read at once (for the test harness). */
  failedNow(filter: FailedDeliveryFilter = {}): FailedRecord[] {
    const eventId = filter.eventId === undefined ? undefined : normalizeUuid(filter.eventId);
    const tenantId = filter.tenantId === undefined ? undefined : normalizeUuid(filter.tenantId);
    return this.tables
      .allDeliveries()
      .filter(
        (record): record is FailedRecord =>
          record.status === 'failed' &&
          record.failedAt !== null &&
          (eventId === undefined || record.eventId === eventId) &&
          (filter.handler === undefined || record.handler === filter.handler) &&
          this.eventMatches(record.eventId, tenantId, filter),
      )
      .sort(
        (a, b) =>
          a.failedAt.getTime() - b.failedAt.getTime() || compare(a.eventId, b.eventId) || compare(a.handler, b.handler),
      );
  }

  /** As the TypeORM query: keyset after the cursor (failure time, event id, handler), then the limit. */
  async listFailed(filter: FailedDeliveryQuery = {}): Promise<FailedDelivery[]> {
    const { after, limit } = filter;
    const cursor = after && {
      at: Date.parse(after.failedAt),
      eventId: normalizeUuid(after.eventId),
      handler: after.handler,
    };
    const listed = this.failedNow(filter).filter(
      (record) =>
        !cursor ||
        (record.failedAt.getTime() - cursor.at ||
          compare(record.eventId, cursor.eventId) ||
          compare(record.handler, cursor.handler)) > 0,
    );
    return listed.slice(0, limit ?? listed.length).map((record) => ({
      eventId: record.eventId,
      handler: record.handler,
      attempts: record.attempts,
      lastError: record.lastError ?? '',
      failedAt: record.failedAt.toISOString(),
    }));
  }

  private eventMatches(eventId: string, tenantId: string | undefined, filter: FailedDeliveryFilter): boolean {
    const event = this.tables.event(eventId);
    return (
      (tenantId === undefined || event?.tenantId === tenantId) &&
      (filter.eventType === undefined || event?.type === filter.eventType) &&
      (filter.workflowId === undefined || (event !== undefined && workflowIdOf(event) === filter.workflowId))
    );
  }

  /**
   * Claims, marks and enqueues batch by batch; a batch whose enqueue rejects is put back as it was
   * (the transaction of the TypeORM ledger rolls back). Deliveries failing again meanwhile are left
   * for the next call.
   */
  async redriveFailed(
    filter: FailedDeliveryFilter,
    plan: (claims: readonly FailedDeliveryClaim[]) => RedriveBatch,
    afterCommit: (replacedJobIds: readonly string[]) => Promise<void>,
  ): Promise<number> {
    const cutoff = this.tables.failureClock();
    let total = 0;
    for (;;) {
      const claimed = this.failedNow(filter)
        .filter((record) => record.failedAt.getTime() <= cutoff)
        .slice(0, REDRIVE_BATCH);
      if (claimed.length === 0) return total;
      const claims = claimed.map((record): FailedDeliveryClaim => ({
        event: toStoredEvent(this.tables.event(record.eventId)!),
        handler: record.handler,
        run: record.run + 1,
        replacedJobId: record.jobId,
      }));
      const batch = plan(claims);
      const undo = this.markRedriven(claimed, claims, batch.jobIds);
      try {
        await batch.enqueue();
      } catch (error) {
        undo();
        throw error;
      }
      await afterCommit(claims.map((claim) => claim.replacedJobId).filter((id): id is string => id !== null));
      total += claimed.length;
      if (claimed.length < REDRIVE_BATCH) return total;
    }
  }

  /** Each record `retrying` under its new run and job, its event `processing`; returns what puts them back. */
  private markRedriven(
    records: readonly FailedRecord[],
    claims: readonly FailedDeliveryClaim[],
    jobIds: readonly string[],
  ): () => void {
    const before = records.map((record) => ({ ...record }));
    const eventsBefore = new Map<string, EventStatus>();
    records.forEach((record, index) => {
      const row = this.tables.delivery(record.eventId, record.handler)!;
      Object.assign(row, {
        status: 'retrying',
        attempts: 0,
        failedAt: null,
        run: claims[index].run,
        jobId: jobIds[index],
      });
      const event = this.tables.event(record.eventId)!;
      if (!eventsBefore.has(event.id)) eventsBefore.set(event.id, event.status);
      if (event.status !== 'processing') this.tables.updateEvent(event, { status: 'processing' });
    });
    return () => {
      for (const record of before) Object.assign(this.tables.delivery(record.eventId, record.handler)!, record);
      for (const [id, status] of eventsBefore) this.tables.updateEvent(this.tables.event(id)!, { status });
    };
  }
}

/** The `workflow_id` column of the TypeORM table: `metadata.workflowId` as stored. */
function workflowIdOf(event: EventRow): unknown {
  if (event.metadataJson === null) return undefined;
  return (JSON.parse(event.metadataJson) as { workflowId?: unknown }).workflowId;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
