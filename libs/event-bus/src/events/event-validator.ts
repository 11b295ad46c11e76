import { randomUUID } from 'node:crypto';
import { EventValidationError } from '../shared/errors.js';
import type { EventValidationIssue } from '../shared/errors.js';
import type { DomainEvent, EventMetadata, NewDomainEvent } from './domain-event.js';
import { describeValue, eventTypeProblem } from './event-type.js';
import { normalizeTimestamp } from './event-timestamp.js';
import { serializeJsonValue, unreadable } from './json-value.js';
import { workflowIdProblem } from './workflow-id.js';
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
  try {
    return validate(input, options?.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES, index);
  } catch (error) {
    // An input whose reading threw (a getter, a Proxy): reported with the batch position like any other.
    if (error instanceof EventValidationError && error.index === undefined && index !== undefined) {
      throw new EventValidationError(error.issues, { index, cause: error.cause });
    }
    throw error;
  }
}

/** Reads `input[key]`; a getter or Proxy trap that throws is an `EventValidationError` naming `field`. */
function read<T>(field: string, reading: () => T): T {
  try {
    return reading();
  } catch (error) {
    throw unreadable(field, error);
  }
}

function validate<P>(input: NewDomainEvent<P>, maxBytes: number, index: number | undefined): ValidatedEvent<P> {
  if (typeof input !== 'object' || input === null || read('event', () => Array.isArray(input))) {
    throw new EventValidationError([{ field: 'event', message: `must be an object, got ${describeValue(input)}` }], {
      index,
    });
  }
  const issues: EventValidationIssue[] = [];
  const fail = (field: string, message: string): void => void issues.push({ field, message });

  // Each field is read once: a getter could answer differently the second time.
  let id = read('id', () => input.id);
  if (id === undefined) id = randomUUID();
  else if (!isUuid(id)) fail('id', `must be a UUID, got ${describeValue(id)}`);

  const type = read('type', () => input.type);
  const typeProblem = eventTypeProblem(type);
  if (typeProblem) fail('type', typeProblem);

  const tenantId = read('tenantId', () => input.tenantId);
  if (!isUuid(tenantId)) fail('tenantId', `must be a UUID, got ${describeValue(tenantId)}`);

  const givenTimestamp = read('timestamp', () => input.timestamp);
  const timestampGiven = givenTimestamp !== undefined;
  const timestamp = timestampGiven
    ? read('timestamp', () => normalizeTimestamp(givenTimestamp))
    : { iso: new Date().toISOString() };
  if ('problem' in timestamp) fail('timestamp', timestamp.problem);

  let payloadJson: string | undefined;
  const payload = read('payload', () => ('payload' in input ? input.payload : undefined));
  if (payload === undefined) fail('payload', 'is required (null is allowed)');
  else payloadJson = serializeJsonValue(payload, { field: 'payload', maxBytes }, issues);

  const metadata = checkMetadata(
    read('metadata', () => input.metadata),
    issues,
  );
  const metadataJson = metadata ? serializeJsonValue(metadata, { field: 'metadata', maxBytes }, issues) : null;

  if (issues.length > 0) throw new EventValidationError(issues, { index });
  const event: DomainEvent<P> = {
    id: normalizeUuid(id),
    type,
    timestamp: (timestamp as { iso: string }).iso,
    tenantId: normalizeUuid(tenantId),
    payload: payload as P,
  };
  if (metadata) event.metadata = metadata;
  return { event, timestampGiven, payloadJson: payloadJson!, metadataJson: metadataJson ?? null };
}

/**
 * The metadata to store: `undefined` when absent or empty (both read back as no metadata). A Map, a
 * Date or another object whose JSON form differs is refused here, before emptiness is judged: a
 * Map has no own keys, and would otherwise vanish without a word.
 */
function checkMetadata(metadata: unknown, issues: EventValidationIssue[]): EventMetadata | undefined {
  if (metadata === undefined) return undefined;
  const kind = read('metadata', () =>
    typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)
      ? describeValue(metadata)
      : Object.prototype.toString.call(metadata) === '[object Object]'
        ? undefined
        : `${describeValue(metadata)} (${Object.prototype.toString.call(metadata).slice(8, -1)})`,
  );
  if (kind !== undefined) {
    issues.push({ field: 'metadata', message: `must be a plain object, got ${kind}` });
    return undefined;
  }
  const record = metadata as EventMetadata;
  const { hasJobId, hasWorkflowId, workflowId, empty } = read('metadata', () => ({
    hasJobId: Object.hasOwn(record, 'jobId'),
    hasWorkflowId: Object.hasOwn(record, 'workflowId'),
    workflowId: record.workflowId,
    empty: Object.keys(record).length === 0,
  }));
  if (hasJobId) {
    issues.push({ field: 'metadata.jobId', message: 'is set by the bus when the event is enqueued: leave it out' });
  }
  const problem = hasWorkflowId ? workflowIdProblem(workflowId) : undefined;
  if (problem) issues.push({ field: 'metadata.workflowId', message: problem });
  return empty ? undefined : record;
}
