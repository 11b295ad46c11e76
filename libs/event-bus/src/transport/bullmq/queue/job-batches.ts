import type { StoredEvent } from '../../../events/domain-event.js';

/**
 * Most bytes of payload one batch job carries. BullMQ keeps a job's data as one Redis string (or one
 * PostgreSQL row) that every fetch transfers whole: a batch of large payloads is cut short rather than
 * become a job of many megabytes. One event larger than this still gets a job of its own.
 */
export const MAX_JOB_BATCH_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Splits the events of one enqueue into the job batches of DESIGN.md 6.4, in order: at most
 * `maxEvents` events and about `maxBytes` of payload each.
 */
export function splitIntoJobBatches(
  events: readonly StoredEvent[],
  maxEvents: number,
  maxBytes: number = MAX_JOB_BATCH_PAYLOAD_BYTES,
): StoredEvent[][] {
  const batches: StoredEvent[][] = [];
  let current: StoredEvent[] = [];
  let bytes = 0;
  for (const event of events) {
    // Payloads were validated as JSON when stored; this measures, it cannot throw.
    const size = maxEvents > 1 ? payloadBytes(event.payload) : 0;
    if (current.length > 0 && (current.length >= maxEvents || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** UTF-16 length of the JSON text: a bound close enough for a budget, without encoding it. */
function payloadBytes(payload: unknown): number {
  return JSON.stringify(payload)?.length ?? 0;
}
