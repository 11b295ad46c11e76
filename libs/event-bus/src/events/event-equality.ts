import type { DomainEvent } from './domain-event.js';
import type { ValidatedEvent } from './event-validator.js';

/**
 * JSON equality: objects compare by their keys whatever their order (as PostgreSQL's jsonb does),
 * arrays element by element. Both sides are valid JSON data (validated, or read back from jsonb),
 * whose nesting is bounded, so the recursion is too.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEqual(item, b[index]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  if (keys.length !== Object.keys(right).length) return false;
  return keys.every((key) => Object.hasOwn(right, key) && jsonEqual(left[key], right[key]));
}

/**
 * The fields in which `incoming` differs from the `stored` event of the same id; empty when it is
 * the same event (an idempotent repeat). The stored `metadata.jobId` is the bus's, and the trace
 * context (`traceparent`, `tracestate`) says who published, not what: neither is compared, so a
 * repeat from another trace is still the same event. The timestamp counts only when the caller gave one.
 */
export function differingFields(stored: DomainEvent, incoming: ValidatedEvent): string[] {
  const fields: string[] = [];
  const event = incoming.event;
  if (stored.type !== event.type) fields.push('type');
  if (stored.tenantId !== event.tenantId) fields.push('tenantId');
  if (!jsonEqual(stored.payload, event.payload)) fields.push('payload');
  if (!jsonEqual(comparedMetadata(stored.metadata), comparedMetadata(event.metadata))) fields.push('metadata');
  if (incoming.timestampGiven && Date.parse(stored.timestamp) !== Date.parse(event.timestamp)) fields.push('timestamp');
  return fields;
}

/** Metadata as compared: without the bus's `jobId` and the trace context, and `{}` the same as none. */
function comparedMetadata(metadata: DomainEvent['metadata']): Record<string, unknown> {
  if (!metadata) return {};
  const { jobId: _jobId, traceparent: _traceparent, tracestate: _tracestate, ...rest } = metadata;
  return rest;
}
