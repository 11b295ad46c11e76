import { randomUUID } from 'node:crypto';
import { EventValidationError } from '../errors.js';
import type { EventValidationIssue } from '../errors.js';
import type { DomainEvent, EventMetadata, NewDomainEvent } from './domain-event.js';
import { describeValue, eventTypeProblem } from './event-type.js';
import { normalizeTimestamp } from './event-timestamp.js';
import { serializeJsonValue } from './json-value.js';
import { isUuid, normalizeUuid } from './uuid.js';

/** Default largest payload: 1 MiB of serialized JSON. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface EventValidationOptions {
  /** Largest accepted payload (and metadata), as serialized JSON bytes. @default 1048576 (1 MiB) */
  maxPayloadBytes?: number;
}

/** A valid event, normalized, with what the store needs to write and compare it. */
export interface ValidatedEvent<P = unknown> {
  /** `id` and `timestamp` filled in, UUIDs lower-cased, `timestamp` an ISO string, empty metadata dropped. */
  event: DomainEvent<P>;
  /** The caller gave a timestamp (only then does it take part in the idempotency comparison). */
  timestampGiven: boolean;
  payloadJson: string;
  metadataJson: string | null;
}

/**
 * Validates an event and returns it normalized (`id` generated and `timestamp` set to now when
 * omitted). Throws `EventValidationError` listing every bad field.
 */
export function validateEvent<P = unknown>(event: NewDomainEvent<P>, options?: EventValidationOptions): DomainEvent<P> {
  return prepareEvent(event, options).event;
}

/** Validates a batch: all of it, or an `EventValidationError` naming the first bad event's index. */
export function prepareEvents<P = unknown>(
  events: readonly NewDomainEvent<P>[],
  options?: EventValidationOptions,
): ValidatedEvent<P>[] {
  // Checked at run time for JavaScript callers; through `unknown`, so `events` keeps its element type.
  const list: unknown = events;
  if (!Array.isArray(list)) {
    throw new EventValidationError([{ field: 'events', message: `must be an array, got ${describeValue(events)}` }]);
  }
  return events.map((event, index) => prepareEvent(event, options, index));
}

export function prepareEvent<P = unknown>(
  input: NewDomainEvent<P>,
  options?: EventValidationOptions,
  index?: number,
): ValidatedEvent<P> {
  const maxBytes = options?.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new EventValidationError([{ field: 'event', message: `must be an object, got ${describeValue(input)}` }], {
      index,
    });
  }
  const issues: EventValidationIssue[] = [];
  const fail = (field: string, message: string): void => void issues.push({ field, message });

  let id = input.id;
  if (id === undefined) id = randomUUID();
  else if (!isUuid(id)) fail('id', `must be a UUID, got ${describeValue(id)}`);

  const typeProblem = eventTypeProblem(input.type);
  if (typeProblem) fail('type', typeProblem);

  if (!isUuid(input.tenantId)) fail('tenantId', `must be a UUID, got ${describeValue(input.tenantId)}`);

  const timestampGiven = input.timestamp !== undefined;
  const timestamp = timestampGiven ? normalizeTimestamp(input.timestamp) : { iso: new Date().toISOString() };
  if ('problem' in timestamp) fail('timestamp', timestamp.problem);

  let payloadJson: string | undefined;
  if (!('payload' in input) || input.payload === undefined) fail('payload', 'is required (null is allowed)');
  else payloadJson = serializeJsonValue(input.payload, { field: 'payload', maxBytes }, issues);

  const metadata = checkMetadata(input.metadata, issues);
  const metadataJson = metadata ? serializeJsonValue(metadata, { field: 'metadata', maxBytes }, issues) : null;

  if (issues.length > 0) throw new EventValidationError(issues, { index });
  const event: DomainEvent<P> = {
    id: normalizeUuid(id),
    type: input.type,
    timestamp: (timestamp as { iso: string }).iso,
    tenantId: normalizeUuid(input.tenantId),
    payload: input.payload,
  };
  if (metadata) event.metadata = metadata;
  return { event, timestampGiven, payloadJson: payloadJson!, metadataJson: metadataJson ?? null };
}

/** The metadata to store: `undefined` when absent or empty (both read back as no metadata). */
function checkMetadata(metadata: unknown, issues: EventValidationIssue[]): EventMetadata | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    issues.push({ field: 'metadata', message: `must be an object, got ${describeValue(metadata)}` });
    return undefined;
  }
  const record = metadata as EventMetadata;
  if (Object.hasOwn(record, 'jobId')) {
    issues.push({ field: 'metadata.jobId', message: 'is set by the bus when the event is enqueued: leave it out' });
  }
  if (Object.hasOwn(record, 'workflowId') && (typeof record.workflowId !== 'string' || record.workflowId === '')) {
    issues.push({
      field: 'metadata.workflowId',
      message: `must be a non-empty string, got ${describeValue(record.workflowId)}`,
    });
  }
  return Object.keys(record).length === 0 ? undefined : record;
}
