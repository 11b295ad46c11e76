/**
 * The tables of the in-memory store, as PostgreSQL holds them for `PersistentEventStore`: the
 * events (`event_store`, job id and status included), the per-handler delivery records
 * (`event_handler_deliveries`) and the transactional handlers' inbox (`event_bus_inbox`).
 * `InMemoryEventStore` reads and appends events; its delivery ledger (in-memory-delivery-ledger.ts)
 * writes statuses, job ids, records and the inbox. Every change of an event is
 * announced, so a test can wait for a status without polling.
 */
import type { EventStatus, StoredEvent } from '../../events/domain-event.js';
import type { ValidatedEvent } from '../../events/event-validator.js';
import type { HandlerDeliveryStatus } from '../../core/ports/delivery-records.js';

/** One stored event as the table row holds it: the JSON as written, the job id in a column of its own. */
export interface EventRow {
  readonly id: string;
  readonly type: string;
  readonly tenantId: string;
  readonly timestamp: string;
  readonly payloadJson: string;
  readonly metadataJson: string | null;
  readonly sequenceNumber: number;
  /** Position in the workflow's stream; null without a workflow. */
  readonly workflowId: string | null;
  readonly version: number | null;
  status: EventStatus;
  readonly createdAt: string;
  jobId: string | null;
}

/** One handler's delivery of one event (a row of `event_handler_deliveries`). */
export interface DeliveryRow {
  readonly eventId: string;
  readonly handler: string;
  status: HandlerDeliveryStatus;
  attempts: number;
  lastError: string | null;
  failedAt: Date | null;
  run: number;
  jobId: string | null;
}

/** Told the id of an event that was stored or whose status or job id changed. */
export type EventChangeListener = (eventId: string) => void;

export class InMemoryTables {
  /** In sequence order: rows are appended at the end, removed by `deleteEvents`, or all cleared. */
  readonly events: EventRow[] = [];
  private readonly eventsById = new Map<string, EventRow>();
  /** event id → handler → record. */
  private readonly deliveries = new Map<string, Map<string, DeliveryRow>>();
  /** The (event, handler) pairs transactional handlers have handled (`event_bus_inbox`), as `eventId handler`. */
  private readonly inbox = new Set<string>();
  private readonly listeners = new Set<EventChangeListener>();
  /** Stream key (see `streamKey`) → its last version. */
  private readonly versions = new Map<string, number>();
  private sequence = 0;
  private lastFailure = 0;

  /** The newest sequence number handed out; it keeps increasing across `clear()`, as a PostgreSQL sequence does. */
  get lastSequence(): number {
    return this.sequence;
  }

  event(id: string): EventRow | undefined {
    return this.eventsById.get(id);
  }

  /** The last version of a workflow's stream in a tenant, 0 when it has none. */
  workflowVersion(tenantId: string, workflowId: string): number {
    return this.versions.get(streamKey(tenantId, workflowId)) ?? 0;
  }

  /** The tenants in which a workflow id has events. */
  tenantsOfWorkflow(workflowId: string): string[] {
    const tenants = new Set<string>();
    for (const row of this.events) if (row.workflowId === workflowId) tenants.add(row.tenantId);
    return [...tenants];
  }

  /** Appends a row with the next sequence number and, with a workflow, the next version of its stream. */
  insertEvent({ event, payloadJson, metadataJson }: ValidatedEvent): EventRow {
    this.sequence += 1;
    const workflowId = event.metadata?.workflowId ?? null;
    let version: number | null = null;
    if (workflowId !== null) {
      version = this.workflowVersion(event.tenantId, workflowId) + 1;
      this.versions.set(streamKey(event.tenantId, workflowId), version);
    }
    const row: EventRow = {
      id: event.id,
      type: event.type,
      tenantId: event.tenantId,
      timestamp: event.timestamp,
      payloadJson,
      metadataJson,
      sequenceNumber: this.sequence,
      workflowId,
      version,
      status: 'pending',
      createdAt: new Date().toISOString(),
      jobId: null,
    };
    this.events.push(row);
    this.eventsById.set(row.id, row);
    return row;
  }

  /** Sets an event's status and/or job id, and announces the change. */
  updateEvent(row: EventRow, change: { status?: EventStatus; jobId?: string }): void {
    if (change.status !== undefined) row.status = change.status;
    if (change.jobId !== undefined) row.jobId = change.jobId;
    this.changed(row.id);
  }

  /** An event's delivery records (none: an empty list). */
  deliveriesOf(eventId: string): DeliveryRow[] {
    return [...(this.deliveries.get(eventId)?.values() ?? [])];
  }

  delivery(eventId: string, handler: string): DeliveryRow | undefined {
    return this.deliveries.get(eventId)?.get(handler);
  }

  insertDelivery(row: DeliveryRow): void {
    let ofEvent = this.deliveries.get(row.eventId);
    if (!ofEvent) {
      ofEvent = new Map();
      this.deliveries.set(row.eventId, ofEvent);
    }
    ofEvent.set(row.handler, row);
  }

  /** Whether a transactional handler has handled this event. */
  handled(eventId: string, handler: string): boolean {
    return this.inbox.has(inboxKey(eventId, handler));
  }

  markHandled(eventId: string, handler: string): void {
    this.inbox.add(inboxKey(eventId, handler));
  }

  allDeliveries(): DeliveryRow[] {
    return [...this.deliveries.values()].flatMap((ofEvent) => [...ofEvent.values()]);
  }

  /**
   * The time of a delivery failing now. Failures are listed oldest first, and PostgreSQL's clock
   * tells two of them apart where a millisecond clock may not: each is later than the one before.
   */
  failureTime(): Date {
    this.lastFailure = Math.max(Date.now(), this.lastFailure + 1);
    return new Date(this.lastFailure);
  }

  /** The failure clock now: every failure so far happened at or before it, every later one after it. */
  failureClock(): number {
    return Math.max(Date.now(), this.lastFailure);
  }

  /** Listens to every change of an event; returns the function that stops listening. */
  onChange(listener: EventChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Announces a change of this event. A listener that throws is not the writer's problem: it is skipped. */
  changed(eventId: string): void {
    for (const listener of this.listeners) {
      try {
        listener(eventId);
      } catch {
        // The listener's own error handling (the test harness rejects its wait) is its business.
      }
    }
  }

  /** Deletes these events, their delivery records and inbox rows (a DELETE that cascades), keeping the others in order. */
  deleteEvents(ids: ReadonlySet<string>): void {
    if (ids.size === 0) return;
    const kept = this.events.filter((row) => !ids.has(row.id));
    this.events.length = 0;
    this.events.push(...kept);
    for (const id of ids) {
      this.eventsById.delete(id);
      this.deliveries.delete(id);
    }
    for (const key of this.inbox) if (ids.has(key.slice(0, key.indexOf(' ')))) this.inbox.delete(key);
  }

  /** Forgets every event, every delivery record and the inbox (a TRUNCATE of the tables). */
  clear(): void {
    this.events.length = 0;
    this.eventsById.clear();
    this.deliveries.clear();
    this.versions.clear();
    this.inbox.clear();
  }
}

/** A stream's key: tenant and workflow id (a UUID holds no NUL, so the pair cannot be confused). */
function streamKey(tenantId: string, workflowId: string): string {
  return `${tenantId}\u0000${workflowId}`;
}

/** Handler names have no spaces (subscription-manager.ts), so a space separates the two parts. */
function inboxKey(eventId: string, handler: string): string {
  return `${eventId} ${handler}`;
}

/** A row as the API returns it: fresh objects, and the job id shown as `metadata.jobId` (as the TypeORM mapper does). */
export function toStoredEvent<P = unknown>(row: EventRow): StoredEvent<P> {
  const event: StoredEvent<P> = {
    id: row.id,
    type: row.type,
    timestamp: row.timestamp,
    tenantId: row.tenantId,
    payload: JSON.parse(row.payloadJson) as P,
    sequenceNumber: row.sequenceNumber,
    version: row.version,
    status: row.status,
    createdAt: row.createdAt,
  };
  if (row.metadataJson !== null || row.jobId !== null) {
    event.metadata = {
      ...(row.metadataJson === null ? {} : (JSON.parse(row.metadataJson) as Record<string, unknown>)),
      ...(row.jobId === null ? {} : { jobId: row.jobId }),
    };
  }
  return event;
}
